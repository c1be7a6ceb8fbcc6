package daemon

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
)

// certReloader holds the serving certificate and swaps it on SIGHUP, so a
// renewed certificate is picked up without dropping connections.
type certReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the files again; on error the previous certificate stays.
func (c *certReloader) reload() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("AUTHO_TLS_CERT/AUTHO_TLS_KEY: %w", err)
	}
	c.cert.Store(&cert)
	return nil
}

func (c *certReloader) config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.cert.Load(), nil
		},
	}
}
