package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// serial number to certFile and keyFile.
func writeCert(t *testing.T, certFile, keyFile string, serial int64) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "autho test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
}

// TestTLS serves HTTPS with HSTS, and reloads the certificate on SIGHUP
// without a restart.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, 1)
	ts := startServer(t, map[string]string{"AUTHO_TLS_CERT": certFile, "AUTHO_TLS_KEY": keyFile})
	ts.url = "https://" + ts.d.Addr()
	if ts.d.Issuer != ts.url {
		t.Fatalf("issuer %q, want the https URL", ts.d.Issuer)
	}
	serial := func() int64 {
		conn, err := tls.Dial("tcp", ts.d.Addr(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	}
	saved := client
	client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer func() { client = saved }()

	p := ts.newPartner()
	r := ts.login(p.APIToken, p.PartnerToken)
	wantSuccess(t, r)
	if h := r.Header.Get("Strict-Transport-Security"); h == "" {
		t.Fatal("no HSTS header over TLS")
	}
	if serial() != 1 {
		t.Fatal("unexpected certificate")
	}
	writeCert(t, certFile, keyFile, 2)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	for i := 0; i < 50 && serial() != 2; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if serial() != 2 {
		t.Fatal("certificate not reloaded on SIGHUP")
	}
	wantSuccess(t, ts.login(p.APIToken, p.PartnerToken))
}

// TestTLS_DemoURLs: serve --demo under TLS prints https:// addresses, which
// are the ones that answer.
func TestTLS_DemoURLs(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeCert(t, certFile, keyFile, 1)
	ts := startServer(t, map[string]string{"AUTHO_TLS_CERT": certFile, "AUTHO_TLS_KEY": keyFile})
	var out bytes.Buffer
	a := &app{db: ts.db, stdout: &out, stderr: &out, getenv: ts.getenv}
	if err := a.demo(context.Background(), ts.d, ts.cfg); err != nil {
		t.Fatal(err)
	}
	leaks.add(regexp.MustCompile(`(?m)^  password +(\S+)`).FindStringSubmatch(out.String())[1])
	urls := regexp.MustCompile(`\w+://[^\s/]+`).FindAllString(out.String(), -1)
	if len(urls) != 3 {
		t.Fatalf("%d addresses in the demo output, want 3:\n%s", len(urls), out.String())
	}
	for _, u := range urls {
		if u != "https://"+ts.d.Addr() {
			t.Fatalf("the demo prints %s, want https://%s:\n%s", u, ts.d.Addr(), out.String())
		}
	}
}
