package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/autho/autho"
)

// The pairs file is named by dev seed's --out, and every error about it
// says so.
const outFlag = "--out"

// NotNewError is CheckOut's refusal of a file that is not new: a mistake
// in the command line, not a failure.
type NotNewError struct{ msg string }

func (e *NotNewError) Error() string { return outFlag + ": " + e.msg }

// CheckOut refuses an out that is not a new file: one that exists (whoever
// made it, whatever it holds) or that is one of own, the database's files,
// which SQLite may make at any time. It runs before the database is opened,
// so a refusal changes nothing.
func CheckOut(out string, own []string) error {
	for _, f := range own {
		if samePath(out, f) {
			return &NotNewError{fmt.Sprintf("%s is the database's own file %s: name a new file for the pairs", out, f)}
		}
	}
	if _, err := os.Lstat(out); err == nil {
		return &NotNewError{fmt.Sprintf("%s exists: dev seed writes only a new file; remove it or name another", out)}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return outErr(err)
	}
	return nil
}

// samePath reports whether a and b name one file: an existing one by any
// name (os.SameFile), or, since the file may not exist yet, the same path
// once absolute, cleaned, and with symlinks in its directory resolved.
func samePath(a, b string) bool {
	if fa, err := os.Stat(a); err == nil {
		if fb, err := os.Stat(b); err == nil && os.SameFile(fa, fb) {
			return true
		}
	}
	return resolvedPath(a) == resolvedPath(b)
}

func resolvedPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		return filepath.Join(dir, filepath.Base(abs))
	}
	return abs
}

// Job is one dev seed: Plan into a database, the pairs into the new file
// Out (see CheckOut).
type Job struct {
	Plan Plan
	Out  string
	// Force seeds even a database holding accounts seed did not make; DB
	// names the database in that refusal.
	Force    bool
	DB       string
	Progress func(r Result, done bool)
}

// ToFile runs j on st. The pairs of every committed batch are kept even
// when it fails, since they are the only copy of those secrets; the error
// says where they are.
func ToFile(ctx context.Context, db autho.Store, j Job) (Result, error) {
	st, ok := db.(Store)
	if !ok {
		return Result{}, errors.New("dev seed: this database backend has no bulk path")
	}
	foreign, err := Foreign(ctx, st)
	if err != nil {
		return Result{}, err
	}
	if foreign > 0 && !j.Force {
		return Result{}, fmt.Errorf("dev seed: the database %s holds %d account(s) that dev seed did not make (names not starting with %q); "+
			"it is for load-test databases only: use a fresh --db, or --force to seed this one anyway", j.DB, foreign, NamePrefix)
	}
	// Made only now, so that a refusal leaves nothing behind.
	f, err := createOut(j.Out)
	if err != nil {
		return Result{}, err
	}
	res, err := Run(ctx, st, j.Plan, f, j.Progress)
	where, ferr := f.finish()
	if err == nil {
		err = ferr
	}
	if err != nil {
		return res, fmt.Errorf("dev seed: %w (the pairs of every batch committed so far are in %s)", err, where)
	}
	return res, nil
}

// pairsFile is the pairs file being written: a file of its own beside name
// (made O_EXCL, mode 0600), so that nothing that exists, or that someone
// else slips in under the name meanwhile, is ever written; finish gives it
// the name.
type pairsFile struct {
	f    *os.File
	name string
}

// createOut makes the file the pairs for path are written to.
func createOut(path string) (*pairsFile, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, outErr(err)
	}
	return &pairsFile{f: f, name: path}, nil
}

func (o *pairsFile) Write(b []byte) (int, error) {
	n, err := o.f.Write(b)
	if err != nil {
		err = outErr(err)
	}
	return n, err
}

// finish closes the file and gives it its name, and returns where the pairs
// are.
func (o *pairsFile) finish() (where string, err error) {
	cerr := o.f.Close()
	where, err = placeNew(o.f.Name(), o.name)
	if cerr != nil {
		return where, outErr(cerr)
	}
	return where, err
}

// placeNew gives the finished file tmp the name out, unless something has
// taken that name since CheckOut looked: a link, unlike a rename, fails
// rather than replace it. It returns where the pairs are.
func placeNew(tmp, out string) (string, error) {
	if err := os.Link(tmp, out); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return tmp, fmt.Errorf("%s: %s was made by someone else while seeding, and is left alone", outFlag, out)
		}
		return tmp, outErr(err)
	}
	os.Remove(tmp)
	return out, nil
}

func outErr(err error) error { return fmt.Errorf("%s: %w", outFlag, err) }

// Progress writes dev seed's progress line to w: rewritten in place on a
// terminal, and otherwise (a log, CI) a new line every few seconds so as not
// to flood it. Its Update is Run's report.
type Progress struct {
	w     io.Writer
	plan  Plan
	start time.Time
	tty   bool
	every time.Duration
	last  time.Duration
	shown bool // the first report is shown at once, whatever every says
}

// NewProgress reports the progress of plan, started at start, to w.
func NewProgress(w io.Writer, plan Plan, start time.Time) *Progress {
	p := &Progress{w: w, plan: plan, start: start, every: 5 * time.Second}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty, p.every = true, 250*time.Millisecond
		}
	}
	return p
}

// Update reports r; done is the last report.
func (p *Progress) Update(r Result, done bool) {
	elapsed := time.Since(p.start)
	if !done && p.shown && elapsed-p.last < p.every {
		return
	}
	p.last, p.shown = elapsed, true
	rate := float64(r.Tokens) / max(elapsed.Seconds(), 1e-3)
	line := fmt.Sprintf("dev seed: %d/%d tokens, %d/%d accounts, %.0f s, %.0f tokens/s",
		r.Tokens, p.plan.Tokens, r.Accounts, p.plan.Accounts, elapsed.Seconds(), rate)
	switch {
	case p.tty && done:
		fmt.Fprintf(p.w, "\r%s\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r%s", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}
