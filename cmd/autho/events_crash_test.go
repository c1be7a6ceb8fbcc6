package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autho/autho/internal/webhook/webhooktest"
)

// startBinaryServeEnv is startBinaryServe with settings in the
// environment: the events' (loopback endpoints, short waits), and a
// PostgreSQL deployment's master key.
func startBinaryServeEnv(t *testing.T, bin, db string, env map[string]string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--db", db, "--addr", "127.0.0.1:0", "--login-failures-per-minute", "0")
	cmd.Env = append(os.Environ(), "AUTHO_DATABASE=", "AUTHO_MASTER_KEY=")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var line struct{ Msg, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "autho serving" {
			go io.Copy(io.Discard, stderr)
			return cmd, "http://" + line.Addr
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatal("autho serve did not start")
	return nil, ""
}

// TestEvents_Kill9Delivered: 20 rounds of kill -9 of the serving node while
// accounts are made through the admin API and the CLI; afterwards, with a
// node running again, every acknowledged change's event reaches the
// receiver. On SQLite and PostgreSQL.
func TestEvents_Kill9Delivered(t *testing.T) {
	// Mostly waiting (for leases to run out, for the 10 s bound): it runs
	// beside the other waiting tests.
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b backend) {
		bin := authoBinary(t)
		env := map[string]string{"AUTHO_WEBHOOK_ALLOW_PRIVATE": "true", "AUTHO_DELIVERY_TIME_SCALE": "0.001", "AUTHO_SECRET_SCANNING_KEYS_URL": "off"}
		var db string
		if b == backendSQLite {
			db = newDB(t)
		} else {
			db, _ = pgTestSchema(t)
			env["AUTHO_MASTER_KEY"] = pgTestMasterKey()
			if r := runOp(t, db, env, "", "migrate"); r.code != 0 {
				t.Fatalf("migrate: %s", r.stderr)
			}
		}
		// The master key is the server's to make on SQLite: start once
		// before the CLI seals the endpoint's secret with it.
		cmd, _ := startBinaryServeEnv(t, bin, db, env)
		cmd.Process.Kill()
		cmd.Wait()
		rc := webhooktest.NewReceiver(t, "")
		hook := mustOpJSON(t, db, env, "", "webhook", "create", "--url", rc.URL(), "--event", "account.created")
		rc.SetSecret(t, opStr(hook, "secret"))
		key := opStr(mustOpJSON(t, db, env, "", "operator-key", "create", "--name", "crm"), "key")
		leaks.add(key)

		var mu sync.Mutex
		acked := map[string]bool{} // account ids whose create was answered
		ack := func(id string) {
			if id != "" {
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		}
		for round := range 20 {
			cmd, url := startBinaryServeEnv(t, bin, db, env)
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() { // the back office, over HTTP
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					req, _ := http.NewRequest("POST", url+"/v1/admin/accounts", strings.NewReader(fmt.Sprintf(`{"name":"API %d.%d"}`, round, i)))
					req.Header.Set("Authorization", "Bearer "+key)
					req.Header.Set("Content-Type", "application/json")
					res, err := client.Do(req)
					if err != nil {
						return // killed
					}
					var m map[string]any
					json.NewDecoder(res.Body).Decode(&m)
					res.Body.Close()
					leaks.add(opStr(m, "partner_token"))
					if res.StatusCode == 201 {
						ack(opStr(m, "id"))
					}
				}
			})
			wg.Go(func() { // the operator, at a terminal
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					r := runOp(t, db, env, "", "account", "create", "--name", fmt.Sprintf("CLI %d.%d", round, i), "--json")
					if r.code == 0 {
						var m map[string]any
						json.Unmarshal([]byte(r.stdout), &m)
						leaks.add(opStr(m, "partner_token"))
						ack(opStr(m, "id"))
					}
				}
			})
			time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
			cmd.Process.Kill()
			cmd.Wait()
			close(stop)
			wg.Wait()
		}
		cmd, _ = startBinaryServeEnv(t, bin, db, env)
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

		seen := func() (map[string]bool, int) {
			got := map[string]bool{}
			for _, d := range rc.Unique() {
				var ev struct {
					Data struct{ Account struct{ ID string } }
				}
				json.Unmarshal(d.Body, &ev)
				got[ev.Data.Account.ID] = true
			}
			missing := 0
			for id := range acked {
				if !got[id] {
					missing++
				}
			}
			return got, missing
		}
		deadline := time.Now().Add(90 * time.Second)
		_, missing := seen()
		for missing > 0 && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
			_, missing = seen()
		}
		if missing > 0 {
			t.Fatalf("%d of %d acknowledged account creations never had their event delivered", missing, len(acked))
		}
		if inv := rc.Invalid(); len(inv) > 0 {
			t.Errorf("%d deliveries did not verify", len(inv))
		}
		t.Logf("20 kills: %d acknowledged creations (API and CLI), every one's account.created delivered; %d deliveries in all, %d distinct",
			len(acked), len(rc.Deliveries()), len(rc.Unique()))
	})
}
