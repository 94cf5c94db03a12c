// Command nativeaction is a native action for the factory's tests, speaking
// the actionloop protocol: one JSON line per activation on stdin, one result
// line on file descriptor 3. It greets params.name and logs on both streams.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

func main() {
	results := os.NewFile(3, "results")
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		var msg struct {
			Value struct {
				Name string `json:"name"`
			} `json:"value"`
		}
		out := map[string]any{}
		if err := json.Unmarshal(in.Bytes(), &msg); err != nil {
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
