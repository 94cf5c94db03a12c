// Command nativeaction is a native action for the factory's tests, speaking
// the actionloop protocol: one JSON line per activation on stdin, one result
// line on file descriptor 3. It greets params.name and logs on both streams;
// with params.hog it keeps allocating until it runs out of memory; with
// params.fail it writes "reason <name>" on both streams and answers a
// result that is not a dictionary, a developer error.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// node is a small object with pointers, so that the collector keeps
// walking all of them, as an interpreter full of objects does.
type node struct {
	next *node
	m    map[int]int
}

// hog keeps everything it allocates, for ever.
func hog() *node {
	var head *node
	for i := 0; ; i++ {
		head = &node{next: head, m: map[int]int{i: i}}
	}
}

func main() {
	results := os.NewFile(3, "results")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		var msg struct {
			Value struct {
				Name string `json:"name"`
				Hog  bool   `json:"hog"`
				Fail bool   `json:"fail"`
			} `json:"value"`
		}
		out := map[string]any{}
		err := json.Unmarshal(in.Bytes(), &msg)
		if err == nil && msg.Value.Hog {
			fmt.Println("native action eating memory")
			hog()
		}
		if err == nil && msg.Value.Fail {
			fmt.Println("reason " + msg.Value.Name)
			fmt.Fprintln(os.Stderr, "reason "+msg.Value.Name)
			fmt.Fprintln(results, "42")
			continue
		}
		if err != nil {
			out["error"] = err.Error()
		} else {
			out["greeting"] = "hello " + msg.Value.Name
			out["native"] = true
		}
		fmt.Println("native stdout for", msg.Value.Name)
		fmt.Fprintln(os.Stderr, "native stderr for", msg.Value.Name)
		b, _ := json.Marshal(out)
		fmt.Fprintf(results, "%s\n", b)
	}
}
