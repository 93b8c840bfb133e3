// Command ucap-ferretdb runs an embedded FerretDB (MongoDB wire protocol) for
// local development and tests, where no container engine is available: on
// PostgreSQL given -postgresql-url, else on SQLite files in -data.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL connection string (postgresql backend)")
	dataDir := flag.String("data", "data", "directory for the SQLite database files, without -postgresql-url")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail("bad -log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
	}
	var storage string
	if *postgresqlURL != "" {
		config.Handler = "postgresql"
		config.PostgreSQLURL = *postgresqlURL
		storage = redacted(*postgresqlURL)
	} else {
		absData, err := filepath.Abs(*dataDir)
		if err != nil {
			fail("bad -data: %v", err)
		}
		if err := os.MkdirAll(absData, 0o755); err != nil {
			fail("cannot create data directory: %v", err)
		}
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + absData + "/"
		storage = absData
	}

	server, err := ferretdb.New(config)
	if err != nil {
		fail("cannot start FerretDB: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logger.Warn("ucap-ferretdb listening", "address", *listen, "handler", config.Handler, "storage", storage)
	if err := server.Run(ctx); err != nil {
		fail("FerretDB stopped: %v", err)
	}
}

// redacted is the connection string without its password, for the log.
func redacted(connection string) string {
	u, err := url.Parse(connection)
	if err != nil {
		return "(unparsable PostgreSQL URL)"
	}
	return u.Redacted()
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ucap-ferretdb: "+format+"\n", args...)
	os.Exit(1)
}
