package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAdminAPI_Kill9Idempotent: a POST with an Idempotency-Key is cut off
// by kill -9 at a random moment (before, during or after the create, or
// after the answer), then retried with the same key on a restarted server:
// never a second account for one key. The retry is the replay (201), "still
// being answered" (409, the cut-off attempt's outcome unknown), or, when
// the first attempt never got as far as its record, the first create.
func TestAdminAPI_Kill9Idempotent(t *testing.T) {
	bin := authoBinary(t)
	db := newDB(t)
	var made map[string]any
	runAndDecode(t, db, &made, "operator-key", "create", "--name", "crm")
	key := opStr(made, "key")
	leaks.add(key)
	outcomes := map[int]int{}
	for i := range 20 {
		cmd, url := startBinaryServe(t, bin, db)
		name := fmt.Sprintf("Kill %d", i)
		body := `{"name":"` + name + `"}`
		post := func(base string) int {
			req, _ := http.NewRequest("POST", base+"/v1/admin/accounts", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("deal-%d", i))
			res, err := client.Do(req)
			if err != nil {
				return 0 // cut off
			}
			defer res.Body.Close()
			var m map[string]any
			json.NewDecoder(res.Body).Decode(&m)
			leaks.add(opStr(m, "partner_token"))
			return res.StatusCode
		}
		done := make(chan int, 1)
		go func() { done <- post(url) }()
		time.Sleep(time.Duration(rand.IntN(4000)) * time.Microsecond)
		cmd.Process.Kill()
		cmd.Wait()
		<-done

		cmd, url = startBinaryServe(t, bin, db)
		retry := post(url)
		cmd.Process.Kill()
		cmd.Wait()
		if retry != 201 && retry != 409 {
			t.Fatalf("kill %d: the retry answered %d", i, retry)
		}
		outcomes[retry]++
		if n := accountsNamed(t, db, name); n > 1 {
			t.Fatalf("kill %d: %d accounts for one Idempotency-Key", i, n)
		}
	}
	t.Logf("20 kills: retries answered %v, never a second account", outcomes)
}

// accountsNamed counts the accounts of that name through the CLI.
func accountsNamed(t *testing.T, db, name string) int {
	t.Helper()
	var list struct{ Accounts []map[string]any }
	runAndDecode(t, db, &list, "account", "list")
	n := 0
	for _, a := range list.Accounts {
		if a["name"] == name {
			n++
		}
	}
	return n
}

// runAndDecode runs a CLI command with --json on db and decodes its answer.
func runAndDecode(t *testing.T, db string, v any, args ...string) {
	t.Helper()
	r := runOp(t, db, nil, "", append(args, "--json")...)
	if r.code != 0 {
		t.Fatalf("autho %s: %s", strings.Join(args, " "), r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatal(err)
	}
}
