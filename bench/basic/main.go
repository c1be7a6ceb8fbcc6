// Command basic turns bench/run's seeded pairs ("api_token partner_token"
// a line, on stdin) into the Authorization headers an OAuth2 client sends
// for them (on stdout, one a line, in the same order): client_secret_basic
// with the partner token as client_id and the API token as client_secret,
// each form-urlencoded first (RFC 6749 §2.3.1).
//
// bench/login.lua reads them in its oauth2 mode. They are made here, once,
// rather than in wrk's Lua: wrk starts its first thread before the second
// one's init has run, so a slow init would let the first thread's requests
// count without their time.
package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	for in.Scan() {
		api, ptn, ok := strings.Cut(in.Text(), " ")
		if !ok {
			log.Fatalf("not a pair: a line without a space")
		}
		cred := url.QueryEscape(ptn) + ":" + url.QueryEscape(api)
		fmt.Fprintf(out, "Basic %s\n", base64.StdEncoding.EncodeToString([]byte(cred)))
	}
	if err := in.Err(); err != nil {
		log.Fatal(err)
	}
	if err := out.Flush(); err != nil {
		log.Fatal(err)
	}
}
