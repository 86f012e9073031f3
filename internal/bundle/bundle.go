// Package bundle writes a set of named files as one ZIP archive with a
// manifest — each file's name, size and SHA-256 — and checks an archive
// against its manifest. It knows nothing of what the files are: the evidence
// file of a cooperative is one use.
//
// An archive holds the files in the order given, then manifest.json (the
// Manifest as JSON) and SHA256SUMS (the same checksums in the format of
// `sha256sum -c`, so a control body can check the files with a standard
// tool after unzipping). Every entry carries the bundle's creation time, so
// the same files give the same archive byte for byte.
//
// Names are relative paths with forward slashes, without "." or ".."
// segments, unique, at most 200 bytes: an archive never writes outside the
// directory it is unzipped in.
package bundle

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"
)

// The names of the manifest entries.
const (
	ManifestName = "manifest.json"
	SumsName     = "SHA256SUMS"
)

// File is one file of a bundle: its bytes, or Load to read them only when
// the file is written (large files are then held one at a time).
type File struct {
	Name string
	Data []byte
	Load func() ([]byte, error)
}

// Entry is a file as the manifest lists it.
type Entry struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Manifest lists the files of a bundle.
type Manifest struct {
	Title   string    `json:"title"`
	Created time.Time `json:"created"`
	Files   []Entry   `json:"files"`
}

// ErrMismatch is wrapped by every error Verify returns about the content of
// an archive (as opposed to one it cannot read).
var ErrMismatch = errors.New("bundle does not match its manifest")

// CheckName reports whether name may be a file of a bundle.
func CheckName(name string) error {
	switch {
	case name == "" || len(name) > 200:
		return fmt.Errorf("bundle: file name %q must have 1 to 200 bytes", name)
	case name == ManifestName || name == SumsName:
		return fmt.Errorf("bundle: %q is the manifest's name", name)
	case strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || path.Clean(name) != name || slices.Contains(strings.Split(name, "/"), ".."):
		return fmt.Errorf("bundle: file name %q must be a relative path with forward slashes", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("bundle: file name %q has a control character", name)
		}
	}
	return nil
}

// Write writes the files, then the manifest, to w as a ZIP archive, and
// returns the manifest. progress, when not nil, is called after each file
// with the count written.
func Write(w io.Writer, title string, created time.Time, files []File, progress func(done int)) (Manifest, error) {
	m := Manifest{Title: title, Created: created.UTC().Truncate(time.Second), Files: make([]Entry, 0, len(files))}
	seen := map[string]bool{}
	for _, f := range files {
		if err := CheckName(f.Name); err != nil {
			return Manifest{}, err
		}
		if seen[f.Name] {
			return Manifest{}, fmt.Errorf("bundle: file %q is listed twice", f.Name)
		}
		seen[f.Name] = true
	}
	zw := zip.NewWriter(w)
	put := func(name string, data []byte) error {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: m.Created})
		if err != nil {
			return err
		}
		_, err = fw.Write(data)
		return err
	}
	for i, f := range files {
		data := f.Data
		if f.Load != nil {
			var err error
			if data, err = f.Load(); err != nil {
				return Manifest{}, fmt.Errorf("bundle: %s: %w", f.Name, err)
			}
		}
		sum := sha256.Sum256(data)
		m.Files = append(m.Files, Entry{Name: f.Name, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
		if err := put(f.Name, data); err != nil {
			return Manifest{}, err
		}
		if progress != nil {
			progress(i + 1)
		}
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	if err := put(ManifestName, append(mj, '\n')); err != nil {
		return Manifest{}, err
	}
	if err := put(SumsName, sums(m)); err != nil {
		return Manifest{}, err
	}
	return m, zw.Close()
}

// sums is the manifest in the format of sha256sum: the hex digest, two
// spaces, the name.
func sums(m Manifest) []byte {
	var b bytes.Buffer
	for _, e := range m.Files {
		fmt.Fprintf(&b, "%s  %s\n", e.SHA256, e.Name)
	}
	return b.Bytes()
}

// Verify reads an archive written by Write and checks it against its
// manifest: every listed file present with its size and SHA-256, no file
// that the manifest does not list, and SHA256SUMS agreeing. It returns the
// manifest; a difference is an error wrapping ErrMismatch that names the
// file.
func Verify(r io.ReaderAt, size int64) (Manifest, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Manifest{}, err
	}
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := entries[f.Name]; dup {
			return Manifest{}, fmt.Errorf("%w: %s is in the archive twice", ErrMismatch, f.Name)
		}
		entries[f.Name] = f
	}
	read := func(name string) ([]byte, error) {
		f, ok := entries[name]
		if !ok {
			return nil, fmt.Errorf("%w: %s is missing", ErrMismatch, name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return io.ReadAll(rc)
	}
	mj, err := read(ManifestName)
	if err != nil {
		return Manifest{}, err
	}
	var m Manifest
	if err := json.Unmarshal(mj, &m); err != nil {
		return Manifest{}, fmt.Errorf("%w: %s: %v", ErrMismatch, ManifestName, err)
	}
	listed := map[string]bool{ManifestName: true, SumsName: true}
	for _, e := range m.Files {
		listed[e.Name] = true
		data, err := read(e.Name)
		if err != nil {
			return Manifest{}, err
		}
		sum := sha256.Sum256(data)
		if int64(len(data)) != e.Size || hex.EncodeToString(sum[:]) != e.SHA256 {
			return Manifest{}, fmt.Errorf("%w: %s has %d bytes and SHA-256 %x, the manifest says %d and %s",
				ErrMismatch, e.Name, len(data), sum, e.Size, e.SHA256)
		}
	}
	for name := range entries {
		if !listed[name] {
			return Manifest{}, fmt.Errorf("%w: %s is not in the manifest", ErrMismatch, name)
		}
	}
	s, err := read(SumsName)
	if err != nil {
		return Manifest{}, err
	}
	if !bytes.Equal(s, sums(m)) {
		return Manifest{}, fmt.Errorf("%w: %s does not list the manifest's checksums", ErrMismatch, SumsName)
	}
	return m, nil
}
