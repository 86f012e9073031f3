package mongodb

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

// TestIDLookupsUseAnIndex checks SQLite's plan for the query FerretDB
// sends for an _id equality: it must search an index, not scan the table.
func TestIDLookupsUseAnIndex(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.EnsureIndexes(ctx, []Index{{Collection: "lots"}}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(s.dbDir, s.DB.Name()+".sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var table string
	if err := db.QueryRow(`SELECT table_name FROM _ferretdb_collections WHERE name = 'lots'`).Scan(&table); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "`+table+`" WHERE _ferretdb_sjson->'$._id' = ?`, `"SAF-X"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX") {
		t.Fatalf("_id lookup plan %q does not use an index", p)
	}
	// Running it again (every start does) is harmless.
	if err := s.EnsureIndexes(ctx, []Index{{Collection: "lots"}}); err != nil {
		t.Fatal(err)
	}
}
