// tls-probe logs into a Proxmox VE API the way the proxmoxve provider's client connects, to show what its TLS
// verification accepts. The transport is built as bpg/terraform-provider-proxmox builds it (proxmox/api/client.go,
// NewConnection): an http.Transport with Proxy: http.ProxyFromEnvironment and a tls.Config holding only MinVersion
// (TLS 1.3 unless min_tls says otherwise) and InsecureSkipVerify: insecure. RootCAs is left nil, so Go verifies
// against the system roots, which on Linux it reads from SSL_CERT_FILE (or the distribution's bundle) plus every
// file in each SSL_CERT_DIR directory (crypto/x509 root_unix.go). The login request is the provider's ticket
// login (proxmox/api/user_auth.go): POST /api2/json/access/ticket with username and password, form-encoded.
//
// Usage: PROBE_PASSWORD=... tls-probe <endpoint> <insecure:true|false>
// Prints "login: HTTP <status>" when the TLS handshake verified (or was skipped), else "error: <Go's error>".
package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: tls-probe <endpoint> <insecure:true|false>")
		os.Exit(2)
	}
	endpoint, insecure := strings.TrimRight(os.Args[1], "/"), os.Args[2] == "true"
	client := &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS13,
			InsecureSkipVerify: insecure, //nolint:gosec // the probe shows what this costs
		},
	}}
	form := url.Values{"username": {"root@pam"}, "password": {os.Getenv("PROBE_PASSWORD")}}
	res, err := client.Post(endpoint+"/api2/json/access/ticket", "application/x-www-form-urlencoded",
		strings.NewReader(form.Encode()))
	if err != nil {
		fmt.Printf("error: %v\n", err)
		os.Exit(1)
	}
	defer res.Body.Close()
	fmt.Printf("login: HTTP %d\n", res.StatusCode)
}
