package store

import (
	"context"
	"errors"

	"github.com/scansign/scansign/seal"
)

// Config selects a backend: DatabaseURL wins when set, else the embedded
// store in DataDir.
type Config struct {
	DataDir     string // directory of seals.db
	DatabaseURL string // postgres://…
}

// Open opens the backend cfg selects.
func Open(ctx context.Context, cfg Config) (seal.Store, error) {
	if cfg.DatabaseURL != "" {
		return OpenPostgres(ctx, cfg.DatabaseURL)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("seal store: neither a data directory nor a database URL is configured")
	}
	return OpenEmbedded(ctx, cfg.DataDir)
}
