package main

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
)

// envHeapProfile names a file `closebot run` writes a heap profile to when
// it stops (go tool pprof -sample_index=alloc_space). Hidden: it is for
// finding where the bot's memory goes under `closebot bench`, which passes
// its environment on to the bot.
const envHeapProfile = "CLOSEBOT_HEAP_PROFILE"

// writeHeapProfile writes the heap profile named by envHeapProfile, if any.
func writeHeapProfile(log *slog.Logger) {
	path := os.Getenv(envHeapProfile)
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		log.Warn("heap profile", "err", err)
		return
	}
	defer f.Close()
	runtime.GC() // up-to-date in-use numbers
	if err := pprof.WriteHeapProfile(f); err != nil {
		log.Warn("heap profile", "err", err)
	}
}
