/**
 * A node's certificates, made as a Proxmox node has them: a throwaway CA (like /etc/pve/pve-root-ca.pem) that
 * signs the server certificate (like /etc/pve/nodes/<node>/pve-ssl.pem) with SANs 127.0.0.1 and localhost
 * (pve-cluster src/PVE/Cluster/Setup.pm:76-78 for the CA files, gen_pve_ssl_cert at :487-540 for the node
 * certificate and its subjectAltName list). Generated with the openssl CLI at every start; nothing is reused.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface NodeCerts {
  /** PEM of the throwaway CA (what a client pins to verify the node: pve-root-ca.pem). */
  caFile: string;
  /** Server certificate and key (pve-ssl.pem / pve-ssl.key). */
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint of the server certificate, `AA:BB:…` as `openssl x509 -fingerprint -sha256` prints it. */
  fingerprint256: string;
}

export function makeNodeCerts(dir: string, commonName = "pve-double"): NodeCerts {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = (n: string) => path.join(dir, n);
  const ossl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  ossl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=Proxmox Virtual Environment (double)/OU=pve-double CA/O=PVE Cluster Manager CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout",
    f("pve-root-ca.key"),
    "-out",
    f("pve-root-ca.pem"),
  );
  ossl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${commonName}/OU=PVE Cluster Node/O=Proxmox Virtual Environment`,
    "-keyout",
    f("pve-ssl.key"),
    "-out",
    f("pve-ssl.csr"),
  );
  fs.writeFileSync(
    f("pve-ssl.ext"),
    "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  ossl(
    "x509",
    "-req",
    "-in",
    f("pve-ssl.csr"),
    "-CA",
    f("pve-root-ca.pem"),
    "-CAkey",
    f("pve-root-ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-sha256",
    "-extfile",
    f("pve-ssl.ext"),
    "-out",
    f("pve-ssl.pem"),
  );
  fs.chmodSync(f("pve-root-ca.key"), 0o600);
  fs.chmodSync(f("pve-ssl.key"), 0o600);
  const cert = new X509Certificate(fs.readFileSync(f("pve-ssl.pem")));
  return {
    caFile: f("pve-root-ca.pem"),
    certFile: f("pve-ssl.pem"),
    keyFile: f("pve-ssl.key"),
    fingerprint256: cert.fingerprint256,
  };
}
