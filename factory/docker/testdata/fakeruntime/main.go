// Command fakeruntime is a minimal action runtime for the factory's tests:
// "fakeruntime ok" answers /init and /run (echoing the params and writing
// the sentinels), "fakeruntime 503" answers every request with 503, as a
// runtime that is shutting down does; "fakeruntime exit" exits at once
// with status 3, as a runtime that cannot start does; "fakeruntime mute"
// runs without ever listening, as a runtime stuck in its start does;
// "fakeruntime deverr" fails every /init and /run as OpenWhisk's runtimes
// do: it writes the reason ("reason <init name or run params' tag>") on
// both streams, then both sentinels, and only then answers 502.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

const sentinel = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

func main() {
	mode := "ok"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	if mode == "exit" {
		fmt.Fprintln(os.Stderr, "fakeruntime: exiting as asked")
		os.Exit(3)
	}
	if mode == "mute" {
		for {
			time.Sleep(time.Hour)
		}
	}
	mux := http.NewServeMux()
	if mode == "deverr" {
		serveDevErr(mux)
	} else {
		serveOK(mux, mode)
	}
	if err := http.ListenAndServe(":8080", mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// serveOK answers /init and /run in the modes "ok" and "503".
func serveOK(mux *http.ServeMux, mode string) {
	mux.HandleFunc("/init", func(w http.ResponseWriter, r *http.Request) {
		if mode == "503" {
			http.Error(w, `{"error":"runtime is shutting down"}`, http.StatusServiceUnavailable)
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	})
	mux.HandleFunc("/run", func(w http.ResponseWriter, r *http.Request) {
		if mode == "503" {
			http.Error(w, `{"error":"runtime is shutting down"}`, http.StatusServiceUnavailable)
			return
		}
		var body struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		fmt.Println("fake run")
		fmt.Println(sentinel)
		fmt.Fprintln(os.Stderr, sentinel)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body.Value)
	})
}

// serveDevErr fails /init and /run after writing their logs.
func serveDevErr(mux *http.ServeMux) {
	mux.HandleFunc("/init", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Value struct {
				Name string `json:"name"`
			} `json:"value"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		failAfterLogs(w, body.Value.Name)
	})
	mux.HandleFunc("/run", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Value struct {
				Tag string `json:"tag"`
			} `json:"value"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		failAfterLogs(w, body.Value.Tag)
	})
}

// failAfterLogs writes the reason and the sentinels, then answers the
// failure.
func failAfterLogs(w http.ResponseWriter, tag string) {
	fmt.Println("reason " + tag)
	fmt.Fprintln(os.Stderr, "reason "+tag)
	fmt.Println(sentinel)
	fmt.Fprintln(os.Stderr, sentinel)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadGateway)
	_, _ = w.Write([]byte(`{"error":"failed as asked: ` + tag + `"}`))
}
