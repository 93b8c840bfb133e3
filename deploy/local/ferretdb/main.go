// Command ucap-ferretdb runs an embedded FerretDB (MongoDB wire protocol) on
// PostgreSQL for local development and tests, where no container engine is
// available. It is built with -tags ferretdb_no_sqlite: ucap stores in
// PostgreSQL only, and leaving FerretDB's SQLite backend out saves about a
// third of the build.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL connection string (required)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	if *postgresqlURL == "" {
		fail("-postgresql-url is required")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail("bad -log-level: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := &ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       "postgresql",
		PostgreSQLURL: *postgresqlURL,
	}
	server, err := ferretdb.New(config)
	if err != nil {
		fail("cannot start FerretDB: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logger.Warn("ucap-ferretdb listening", "address", *listen, "storage", redacted(*postgresqlURL))
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
