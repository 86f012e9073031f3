package traceability

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/terroir-coop/terroir/internal/access"
	"github.com/terroir-coop/terroir/internal/id"
	"github.com/terroir-coop/terroir/internal/problem"
)

// Evidence files in the background. A small file (a lot's, or a season of
// at most SyncLots lots) is made while the request waits; a larger one is an
// EvidenceJob: a record in the store that any instance can answer a poll
// from — status, stage, done of total — while the instance that took the
// request makes the file into a blob. The page polls the job and downloads
// the file when it is done. One request per file at a time: asking again
// while a job runs returns that job.
//
// A job belongs to the process that runs it. That process touches the
// record every Stale/4; a queued or running record not touched for Stale
// is reported failed ("interrupted"), since its process died, and asking
// again starts a new job. When a job finishes, older jobs of the same file
// and their files are deleted: the newest file of a season is the one that
// counts.

// Job statuses.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// EvidenceJob is the record of an evidence file being made.
type EvidenceJob struct {
	ID          string           `json:"id" bson:"_id"`
	Cooperative string           `json:"cooperative" bson:"coop"`
	Season      int              `json:"season,omitempty" bson:"season"`
	Lot         string           `json:"lot,omitempty" bson:"lot,omitempty"`
	Status      string           `json:"status" bson:"status"`
	Progress    EvidenceProgress `json:"progress" bson:"progress"`
	// Error says why a job failed, in words for the user: a refusal's
	// message, "interrupted", or "internal error" (the cause is logged).
	Error       string    `json:"error,omitempty" bson:"error,omitempty"`
	FileName    string    `json:"file_name,omitempty" bson:"file_name,omitempty"`
	Size        int64     `json:"size,omitempty" bson:"size,omitempty"`
	SHA256      string    `json:"sha256,omitempty" bson:"sha256,omitempty"`
	Blob        string    `json:"-" bson:"blob,omitempty"`
	RequestedBy string    `json:"requested_by" bson:"requested_by"`
	CreatedAt   time.Time `json:"created_at" bson:"created_at"`
	UpdatedAt   time.Time `json:"updated_at" bson:"updated_at"`
	FinishedAt  time.Time `json:"finished_at,omitzero" bson:"finished_at,omitempty"`
}

// ErrEvidenceJobNotFound is returned for an unknown job or one the actor
// may not read.
var ErrEvidenceJobNotFound = problem.New(problem.NotFound, "evidence job not found")

// EvidenceDownload is a finished evidence file, ready to serve as
// application/zip with Content-Disposition attachment.
type EvidenceDownload struct {
	FileName    string
	ContentType string
	Size        int64
	SHA256      string
	Body        io.Reader
}

// EvidenceJobOptions tune EvidenceJobs; zero values take the defaults.
type EvidenceJobOptions struct {
	// SyncLots: a season of at most this many lots is made while the
	// request waits (default 200, about a second); a negative value sends
	// every season to a job.
	SyncLots int
	// Workers: jobs made at once by this process (default 1: the machine
	// also serves scans and sales).
	Workers int
	// Stale: how long a queued or running job may go without a sign of
	// life before it counts as interrupted (default 2 minutes).
	Stale time.Duration
	// OnError is told the internal errors of jobs (the server logs them).
	OnError func(jobID string, err error)
}

// EvidenceJobs makes evidence files, in the background when they are
// large. It is safe for concurrent use; Close stops it.
type EvidenceJobs struct {
	svc    *Service
	codes  Codes
	render SummaryRenderer
	opt    EvidenceJobOptions
	sem    chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewEvidenceJobs returns the evidence file service: codes for the EPCIS
// identifiers, render for the PDF summary (documents.EvidencePDF).
func NewEvidenceJobs(svc *Service, codes Codes, render SummaryRenderer, opt EvidenceJobOptions) *EvidenceJobs {
	if opt.SyncLots == 0 {
		opt.SyncLots = 200
	}
	if opt.Workers <= 0 {
		opt.Workers = 1
	}
	if opt.Stale <= 0 {
		opt.Stale = 2 * time.Minute
	}
	if opt.OnError == nil {
		opt.OnError = func(string, error) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &EvidenceJobs{svc: svc, codes: codes, render: render, opt: opt, sem: make(chan struct{}, opt.Workers), ctx: ctx, cancel: cancel}
}

// Close stops the jobs of this process and waits for them: each is
// recorded failed ("interrupted"), to be asked again.
func (j *EvidenceJobs) Close() {
	j.cancel()
	j.wg.Wait()
}

// Request answers a request for an evidence file: the file itself when it
// is small (download set), else the job making it (job set; a job for the
// same file already under way is returned rather than a second one).
// Errors: those of Service.Evidence (access, season, unknown lot).
func (j *EvidenceJobs) Request(ctx context.Context, actor access.Actor, req EvidenceRequest) (*EvidenceDownload, *EvidenceJob, error) {
	if err := j.svc.checkEvidenceRequest(ctx, actor, &req); err != nil {
		return nil, nil, err
	}
	large := false
	if req.Lot == "" {
		n, err := j.svc.store.countLots(ctx, req.Cooperative)
		if err != nil {
			return nil, nil, err
		}
		large = j.opt.SyncLots < 0 || n > int64(j.opt.SyncLots)
	}
	if large {
		job, err := j.Start(ctx, actor, req)
		return nil, &job, err
	}
	var buf bytes.Buffer
	f, _, err := j.svc.WriteEvidence(ctx, actor, req, j.codes, j.render, &buf, nil)
	if err != nil {
		return nil, nil, err
	}
	return &EvidenceDownload{FileName: f.FileName(), ContentType: TypeZIP, Size: int64(buf.Len()), SHA256: sha256Hex(buf.Bytes()),
		Body: bytes.NewReader(buf.Bytes())}, nil, nil
}

// Start makes an evidence file in the background and returns its job
// (queued), or the job already making the same file.
func (j *EvidenceJobs) Start(ctx context.Context, actor access.Actor, req EvidenceRequest) (EvidenceJob, error) {
	if err := j.svc.checkEvidenceRequest(ctx, actor, &req); err != nil {
		return EvidenceJob{}, err
	}
	var job EvidenceJob
	started := false
	err := j.svc.store.db.Atomically(ctx, func(ctx context.Context) error {
		jobs, err := j.svc.store.evidenceJobsOf(ctx, req.Cooperative)
		if err != nil {
			return err
		}
		now := j.svc.now().UTC()
		for _, x := range jobs {
			if x.Season == req.Season && x.Lot == req.Lot && j.live(x, now) {
				job = x
				return nil
			}
		}
		job = EvidenceJob{ID: id.New("evj"), Cooperative: req.Cooperative, Season: req.Season, Lot: req.Lot, Status: JobQueued,
			RequestedBy: actor.Email, CreatedAt: now, UpdatedAt: now}
		started = true
		return j.svc.store.insertEvidenceJob(ctx, job)
	})
	if err != nil || !started {
		return job, err
	}
	j.wg.Add(1)
	go j.run(job, actor, req)
	return job, nil
}

// live says whether a job is queued or running and its process alive.
func (j *EvidenceJobs) live(x EvidenceJob, now time.Time) bool {
	return (x.Status == JobQueued || x.Status == JobRunning) && now.Sub(x.UpdatedAt) < j.opt.Stale
}

// Job returns a job's record to those who may read its cooperative.
func (j *EvidenceJobs) Job(ctx context.Context, actor access.Actor, id string) (EvidenceJob, error) {
	x, err := j.svc.store.evidenceJob(ctx, id)
	if err != nil {
		return EvidenceJob{}, err
	}
	if err := actor.ReadCoop(x.Cooperative); err != nil {
		if access.IsForbidden(err) {
			return EvidenceJob{}, ErrEvidenceJobNotFound
		}
		return EvidenceJob{}, err
	}
	if (x.Status == JobQueued || x.Status == JobRunning) && !j.live(x, j.svc.now().UTC()) {
		x.Status, x.Error = JobFailed, "interrupted: ask for the file again"
	}
	return x, nil
}

// Download returns the file of a finished job; 409 while it is being made
// or when it failed.
func (j *EvidenceJobs) Download(ctx context.Context, actor access.Actor, id string) (EvidenceDownload, error) {
	x, err := j.Job(ctx, actor, id)
	if err != nil {
		return EvidenceDownload{}, err
	}
	switch x.Status {
	case JobDone:
	case JobFailed:
		return EvidenceDownload{}, problem.New(problem.Conflict, "the evidence file could not be made (%s); ask for it again", x.Error)
	default:
		return EvidenceDownload{}, problem.New(problem.Conflict, "the evidence file is not ready yet (%s, %d of %d)", x.Progress.Stage, x.Progress.Done, x.Progress.Total)
	}
	body, err := j.svc.store.openBlob(ctx, x.Blob)
	if err != nil {
		return EvidenceDownload{}, err
	}
	return EvidenceDownload{FileName: x.FileName, ContentType: TypeZIP, Size: x.Size, SHA256: x.SHA256, Body: body}, nil
}

// run makes a job's file. It owns the job's record until it ends.
func (j *EvidenceJobs) run(job EvidenceJob, actor access.Actor, req EvidenceRequest) {
	defer j.wg.Done()
	ctx := j.ctx
	st := j.svc.store
	stop := make(chan struct{})
	defer close(stop)
	var mu sync.Mutex // the heartbeat and the progress both write the record
	touch := func(set map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		set["updated_at"] = j.svc.now().UTC()
		// The record is written even while stopping, so it says how the
		// job ended.
		_ = st.updateEvidenceJob(context.WithoutCancel(ctx), job.ID, set)
	}
	go func() {
		t := time.NewTicker(j.opt.Stale / 4)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				touch(map[string]any{})
			}
		}
	}()
	fail := func(err error) {
		msg := "internal error"
		if p, ok := problem.As(err); ok {
			msg = p.Message
		} else if errors.Is(err, context.Canceled) {
			msg = "interrupted: ask for the file again"
		} else {
			j.opt.OnError(job.ID, err)
		}
		touch(map[string]any{"status": JobFailed, "error": msg, "finished_at": j.svc.now().UTC()})
	}
	select {
	case j.sem <- struct{}{}:
		defer func() { <-j.sem }()
	case <-ctx.Done():
		fail(ctx.Err())
		return
	}
	touch(map[string]any{"status": JobRunning})
	last := EvidenceProgress{}
	progress := func(p EvidenceProgress) {
		// A write per stage and per twentieth of it, not per lot.
		if p.Stage == last.Stage && p.Done != p.Total && p.Total > 0 && p.Done*20/p.Total == last.Done*20/max(last.Total, 1) {
			return
		}
		last = p
		touch(map[string]any{"progress": p})
	}
	w := st.newBlobWriter(ctx, id.New("evz"), TypeZIP, j.svc.now())
	f, _, err := j.svc.WriteEvidence(ctx, actor, req, j.codes, j.render, w, progress)
	if err != nil {
		w.Abort()
		fail(err)
		return
	}
	info, err := w.Close()
	if err != nil {
		w.Abort()
		fail(err)
		return
	}
	// The newest file of a season is the one that counts: the older ones
	// are deleted before this job says it is done, so a poller that sees it
	// done sees only it.
	if older, err := st.evidenceJobsOf(ctx, job.Cooperative); err == nil {
		for _, x := range older {
			// No other job of the same file can be live (Start returns it),
			// so every other finished one is older than this one.
			if x.ID != job.ID && x.Season == job.Season && x.Lot == job.Lot && (x.Status == JobDone || x.Status == JobFailed) {
				if x.Blob != "" {
					_ = st.deleteBlob(ctx, x.Blob)
				}
				_ = st.deleteEvidenceJob(ctx, x.ID)
			}
		}
	}
	touch(map[string]any{"status": JobDone, "blob": info.ID, "size": info.Size, "sha256": info.SHA256, "file_name": f.FileName(),
		"finished_at": j.svc.now().UTC(), "progress": EvidenceProgress{Stage: StageArchive, Done: last.Total, Total: last.Total}})
}
