package e2e

import (
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/apache/openwhisk-client-go/whisk"
)

// TestOpenWhiskGoClient drives the daemon with OpenWhisk's own Go client
// (the library the wsk CLI is built on): what passes here works for
// OpenWhisk users' tools.
func TestOpenWhiskGoClient(t *testing.T) {
	d := newDaemon(t, "--user-memory", "512m")
	d.start()
	defer d.shutdown()
	// The client reads ~/.wskprops unless told otherwise; keep it away.
	t.Setenv("WSK_CONFIG_FILE", os.DevNull)
	newClient := func(auth string) *whisk.Client {
		c, err := whisk.NewClient(&http.Client{Timeout: time.Minute}, &whisk.Config{
			Host: "http://" + d.addr, AuthToken: auth, Namespace: "_", Version: "v1",
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := newClient(guestAuth)

	code := helloJS
	action := &whisk.Action{Name: "hello", Namespace: "_", Exec: &whisk.Exec{Kind: "nodejs:default", Code: &code}}
	created, _, err := c.Actions.Insert(action, false)
	if err != nil {
		t.Fatalf("Actions.Insert: %v", err)
	}
	if created.Namespace != "guest" || created.Exec.Kind != "js:goja" || created.Version != "0.0.1" {
		t.Errorf("created: %+v %+v", created, created.Exec)
	}
	_, resp, err := c.Actions.Insert(action, false)
	var werr *whisk.WskError
	if err == nil || resp == nil || resp.StatusCode != 409 || !errors.As(err, &werr) || werr.ExitCode != 409-256 ||
		!strings.Contains(err.Error(), "resource already exists") {
		t.Errorf("Insert again: %v (resp %v), want 409 'resource already exists'", err, resp)
	}

	res, _, err := c.Actions.Invoke("hello", map[string]any{"name": "Ada"}, true, true)
	if err != nil {
		t.Fatalf("Actions.Invoke blocking result: %v", err)
	}
	if m, _ := res.(map[string]any); m["payload"] != "Hello, Ada" {
		t.Errorf("result = %v", res)
	}
	res, _, err = c.Actions.Invoke("hello", map[string]any{"name": "Bob"}, false, false)
	if err != nil {
		t.Fatalf("Actions.Invoke non-blocking: %v", err)
	}
	id, _ := res.(map[string]any)["activationId"].(string)
	d.activation(id)
	act, _, err := c.Activations.Get(id)
	if err != nil {
		t.Fatalf("Activations.Get: %v", err)
	}
	if act.Namespace != "guest" || act.Name != "hello" || !act.Response.Success || act.Response.Status != "success" {
		t.Errorf("activation: %+v", act)
	}
	logs, _, err := c.Activations.Logs(id)
	if err != nil || len(logs.Logs) != 1 || !strings.HasSuffix(logs.Logs[0], "stdout: hi Bob") {
		t.Errorf("Activations.Logs: %v %v", logs, err)
	}
	result, _, err := c.Activations.Result(id)
	if err != nil {
		t.Fatalf("Activations.Result: %v", err)
	}
	if m, _ := result.Result.(map[string]any); err != nil || m["payload"] != "Hello, Bob" {
		t.Errorf("Activations.Result: %+v %v", result, err)
	}
	list, _, err := c.Activations.List(&whisk.ActivationListOptions{Name: "hello", Limit: 30})
	if err != nil || len(list) != 2 || list[0].ActivationID != id {
		t.Errorf("Activations.List: %d records, first %v, err %v", len(list), list, err)
	}
	actions, _, err := c.Actions.List("", &whisk.ActionListOptions{Limit: 30})
	if err != nil || len(actions) != 1 || actions[0].Annotations.GetValue("exec") != "js:goja" {
		t.Errorf("Actions.List: %+v %v", actions, err)
	}

	// An application error comes back as one, with the action's message.
	failing := `function main() { return {error: "no name"}; }`
	if _, _, err := c.Actions.Insert(&whisk.Action{Name: "fails", Namespace: "_", Exec: &whisk.Exec{Kind: "nodejs:default", Code: &failing}}, false); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Actions.Invoke("fails", map[string]any{}, true, true)
	if !errors.As(err, &werr) || !werr.ApplicationError || !strings.Contains(err.Error(), "no name") {
		t.Errorf("application error: %v", err)
	}

	// A wrong key and a foreign namespace are refused as OpenWhisk refuses them.
	if _, resp, err := newClient(strings.Split(guestAuth, ":")[0]+":"+strings.Repeat("k", 64)).Actions.Get("hello", false); err == nil || resp.StatusCode != 401 {
		t.Errorf("wrong key: %v", err)
	}
	alice := newClient(aliceAuth)
	alice.Namespace = "guest"
	if _, resp, err := alice.Actions.Get("hello", false); err == nil || resp.StatusCode != 403 {
		t.Errorf("foreign namespace: %v", err)
	}
}
