#!/usr/bin/env python3
"""A read-only Docker registry (HTTP API v2, pulls only) serving the hermes stand-in image, so the gateway's
RemoteImage really pulls it (https://distribution.github.io/distribution/spec/api/). The engine tier runs it inside
the LXC's network namespace (nsenter --net), on 127.0.0.1:<port>: Docker trusts a loopback registry over plain
HTTP without any daemon setting, and no file is put into the container.

Usage: standin-registry.py <docker-save-dir> <port>|--prepare
  <docker-save-dir>: an extracted `docker save` of one or more tags (manifest.json, <config>.json, <layer>/layer.tar).
  Any repository name is served; the tag picks the image (`local`, `v2`, ...). Layers are gzipped once at start.
"""
import gzip
import hashlib
import http.server
import json
import os
import sys

src, port = sys.argv[1], sys.argv[2]
blobs = {}  # digest -> (path, media type)
manifests = {}  # tag -> bytes


def add_blob(path, media):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    digest = "sha256:" + h.hexdigest()
    blobs[digest] = (path, media)
    return {"mediaType": media, "size": os.path.getsize(path), "digest": digest}


for entry in json.load(open(os.path.join(src, "manifest.json"))):
    config = add_blob(os.path.join(src, entry["Config"]), "application/vnd.docker.container.image.v1+json")
    layers = []
    for layer in entry["Layers"]:
        gz = os.path.join(src, layer + ".gz")
        if not os.path.exists(gz):
            # Written aside and renamed: a registry killed mid-way (its LXC rebooted) never leaves half a layer.
            tmp = "%s.%d" % (gz, os.getpid())
            with open(os.path.join(src, layer), "rb") as f, gzip.GzipFile(tmp, "wb", compresslevel=1, mtime=0) as g:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    g.write(chunk)
            os.replace(tmp, gz)
        layers.append(add_blob(gz, "application/vnd.docker.image.rootfs.diff.tar.gzip"))
    body = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": config,
            "layers": layers,
        }
    ).encode()
    for tag in entry.get("RepoTags") or []:
        manifests[tag.rsplit(":", 1)[1]] = body
MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
if port == "--prepare":
    sys.exit(0)


class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, status, body=b"", headers=None, send_body=True):
        self.send_response(status)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)) if isinstance(body, bytes) else str(body))
        self.end_headers()
        if send_body and isinstance(body, bytes):
            self.wfile.write(body)

    def route(self, send_body):
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts == ["v2"]:
            return self.answer(200, b"{}", {"Content-Type": "application/json"}, send_body)
        if len(parts) >= 4 and parts[0] == "v2" and parts[-2] == "manifests":
            ref = parts[-1]
            body = manifests.get(ref) or next(
                (b for b in manifests.values() if "sha256:" + hashlib.sha256(b).hexdigest() == ref), None
            )
            if body is None:
                return self.answer(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}', {}, send_body)
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            return self.answer(200, body, {"Content-Type": MANIFEST, "Docker-Content-Digest": digest}, send_body)
        if len(parts) >= 4 and parts[0] == "v2" and parts[-2] == "blobs" and parts[-1] in blobs:
            path, media = blobs[parts[-1]]
            size = os.path.getsize(path)
            self.send_response(200)
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Docker-Content-Digest", parts[-1])
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if send_body:
                with open(path, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        self.wfile.write(chunk)
            return None
        return self.answer(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}', {}, send_body)

    def do_GET(self):
        self.route(True)

    def do_HEAD(self):
        self.route(False)

    def log_message(self, fmt, *args):
        sys.stderr.write("standin-registry: " + (fmt % args) + "\n")


sys.stderr.write("standin-registry: serving %s on 127.0.0.1:%s\n" % (sorted(manifests), port))
sys.stderr.flush()
http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()
