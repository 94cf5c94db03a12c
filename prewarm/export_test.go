package prewarm

import "sync"

var (
	suiteMu       sync.Mutex
	suiteCleanups []func()
)

// AfterSuite registers f to run once every test and benchmark of the
// package is done (the engine tests remove their image there).
func AfterSuite(f func()) {
	suiteMu.Lock()
	defer suiteMu.Unlock()
	suiteCleanups = append(suiteCleanups, f)
}

func runSuiteCleanups() {
	suiteMu.Lock()
	fs := suiteCleanups
	suiteCleanups = nil
	suiteMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
