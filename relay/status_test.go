package relay

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/scansign/scansign/relay/store"
	"github.com/scansign/scansign/relay/store/boltstore"
)

// tableFixture drives operations through the Go API on a real store.
type tableFixture struct {
	t   *testing.T
	svc *Service
}

func (f tableFixture) principal(name, secret, guid string) Principal {
	f.t.Helper()
	ctx := context.Background()
	tok, err := f.svc.GrantToken(ctx, GrantRequest{AccountName: name, Password: secret, GUID: guid})
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.svc.Authenticate(ctx, tok)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

const sealCompanyValue, sealCompanyExt = `{"signatureCompanyCode":"xx"}`, `{"caSerialId":"0a1b2c"}`

// reach creates an operation of type typ and walks it to stage along the
// documented path, returning the system's and the app's principals.
func (f tableFixture) reach(typ OpType, stage Stage) (sys, app Principal, guid string) {
	f.t.Helper()
	ctx := context.Background()
	sys = f.principal(sysName, sysSecret, "")
	op, err := f.svc.InitMessage(ctx, sys, InitRequest{Type: typ, Message: "m", Title: "t"})
	if err != nil {
		f.t.Fatal(err)
	}
	guid = op.GUID
	sys.GUID = guid
	app = f.principal(appName, appSecret, guid)
	save := func(p Principal, st Status, value, ext *string) {
		f.t.Helper()
		if _, err := f.svc.SaveResult(ctx, p, guid, SaveRequest{Status: st, Value: value, ExtMessage: ext}); err != nil {
			f.t.Fatalf("walking to %s: save %d: %v", stage, st, err)
		}
	}
	var path []func()
	scan := func() {
		if _, err := f.svc.GetInitMessage(ctx, app, guid); err != nil {
			f.t.Fatal(err)
		}
	}
	company := func() { save(app, StatusConfirmed, ptr(sealCompanyValue), ptr(sealCompanyExt)) }
	certs := func() {
		if _, err := f.svc.Transition(ctx, sys, guid, Change{Via: ViaGetSealImg, To: StatusSealCert}); err != nil {
			f.t.Fatal(err)
		}
	}
	hash := func() { save(sys, StatusSealHash, ptr("hash"), nil) }
	switch stage {
	case StagePending:
	case StageScanned:
		path = []func(){scan}
	case StageCancelled:
		path = []func(){scan, func() { save(app, StatusCancelled, nil, nil) }}
	case StageConfirmed:
		if typ == TypeSeal {
			path = []func(){scan, company, certs, hash, func() { save(app, StatusConfirmed, ptr("sig"), nil) }}
		} else {
			path = []func(){scan, func() { save(app, StatusConfirmed, ptr("sig"), nil) }}
		}
	case StageSealCompanyChosen:
		path = []func(){scan, company}
	case StageSealCertFetched:
		path = []func(){scan, company, certs}
	case StageSealHashReady:
		path = []func(){scan, company, certs, hash}
	}
	for _, step := range path {
		step()
	}
	got, err := f.svc.store.Operation(ctx, guid)
	if err != nil || Stage(got.Stage) != stage {
		f.t.Fatalf("walked to %q, want %q (%v)", got.Stage, stage, err)
	}
	return sys, app, guid
}

// allowedSaves is the status machine of DESIGN.md written out by hand, not
// read from Transitions(): for (kind, from stage, role) the statuses a
// saveCaMessageResult may set and the stage it lands in.
func allowedSaves(typ OpType, from Stage, role Role) map[Status]Stage {
	cancel := map[Status]Stage{StatusCancelled: StageCancelled}
	with := func(m map[Status]Stage, s Status, to Stage) map[Status]Stage {
		out := map[Status]Stage{s: to}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	if typ != TypeSeal {
		if role != RoleApp {
			return nil
		}
		switch from {
		case StagePending:
			return with(cancel, StatusScanned, StageScanned)
		case StageScanned:
			return with(with(cancel, StatusScanned, StageScanned), StatusConfirmed, StageConfirmed)
		}
		return nil
	}
	switch {
	case role == RoleApp && from == StagePending:
		return with(cancel, StatusScanned, StageScanned)
	case role == RoleApp && from == StageScanned:
		return with(with(cancel, StatusScanned, StageScanned), StatusConfirmed, StageSealCompanyChosen)
	case role == RoleApp && from == StageSealCompanyChosen:
		return cancel
	case role == RoleSystem && from == StageSealCompanyChosen:
		return map[Status]Stage{StatusSealCert: StageSealCertFetched}
	case role == RoleApp && from == StageSealCertFetched:
		return cancel
	case role == RoleSystem && from == StageSealCertFetched:
		return map[Status]Stage{StatusSealHash: StageSealHashReady}
	case role == RoleApp && from == StageSealHashReady:
		return with(cancel, StatusConfirmed, StageConfirmed)
	}
	return nil
}

// TestStatusTable tries every (type, from, to, role) through
// saveCaMessageResult: allowed ones land where DESIGN.md says; refused ones
// answer 403 (the other role may) or 409 (nobody may) and change nothing.
func TestStatusTable(t *testing.T) {
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := newService(t, st, newClock())
	ctx := context.Background()
	plainStages := []Stage{StagePending, StageScanned, StageConfirmed, StageCancelled}
	sealStages := []Stage{StagePending, StageScanned, StageSealCompanyChosen, StageSealCertFetched, StageSealHashReady, StageConfirmed, StageCancelled}
	n := 0
	for typ := TypeSign; typ <= TypeRevoke; typ++ {
		stages := plainStages
		if typ == TypeSeal {
			stages = sealStages
		}
		for _, from := range stages {
			for to := StatusPending; to <= StatusSealCert; to++ {
				for _, role := range []Role{RoleSystem, RoleApp} {
					n++
					name := fmt.Sprintf("type%d/%s/to%d/%s", typ, from, to, role)
					t.Run(name, func(t *testing.T) {
						t.Parallel() // each on its own operation; concurrent writes share commits
						f := tableFixture{t: t, svc: svc}
						sys, app, guid := f.reach(typ, from)
						p := app
						if role == RoleSystem {
							p = sys
						}
						value, ext := ptr("v"), (*string)(nil)
						if typ == TypeSeal && from == StageScanned && to == StatusConfirmed {
							value, ext = ptr(sealCompanyValue), ptr(sealCompanyExt)
						}
						before, _ := st.Operation(ctx, guid)
						after, err := svc.SaveResult(ctx, p, guid, SaveRequest{Status: to, Value: value, ExtMessage: ext})
						wantStage, allowed := allowedSaves(typ, from, role)[to]
						if allowed {
							if err != nil {
								t.Fatalf("refused: %v", err)
							}
							if Stage(after.Stage) != wantStage || Status(after.Status) != to || after.Version != before.Version+1 {
								t.Fatalf("landed at %s/%d v%d, want %s/%d v%d", after.Stage, after.Status, after.Version, wantStage, to, before.Version+1)
							}
							return
						}
						other := RoleApp
						if role == RoleApp {
							other = RoleSystem
						}
						_, otherMay := allowedSaves(typ, from, other)[to]
						want := ErrConflict
						if otherMay {
							want = ErrForbidden
						}
						if !errors.Is(err, want) {
							t.Fatalf("got %v, want invokeCode %d", err, want.Code)
						}
						now, _ := st.Operation(ctx, guid)
						if now.Version != before.Version || now.Stage != before.Stage {
							t.Fatalf("refused change still changed the operation: %s v%d -> %s v%d", before.Stage, before.Version, now.Stage, now.Version)
						}
					})
				}
			}
		}
	}
	t.Cleanup(func() {
		if n != 5*4*6*2+7*6*2 {
			t.Errorf("tried %d combinations", n)
		}
	})
}

// The other ways in: getInitMessage moves only 0→1 and only for the app;
// getSealImg and PDF prepare only for the system, only where the table
// says; and an expired operation changes no more.
func TestOtherPaths(t *testing.T) {
	st, err := boltstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := newClock()
	f := tableFixture{t: t, svc: newService(t, st, clk)}
	ctx := context.Background()
	type attempt struct {
		name  string
		typ   OpType
		from  Stage
		role  Role
		ch    Change
		want  Stage // "" = refused
		wantC int
	}
	for _, a := range []attempt{
		{"getInit by app at 0", TypeLogin, StagePending, RoleApp, Change{Via: ViaGetInitMessage, To: StatusScanned}, StageScanned, 0},
		{"getInit by system at 0", TypeLogin, StagePending, RoleSystem, Change{Via: ViaGetInitMessage, To: StatusScanned}, "", CodeForbidden},
		{"getSealImg at company chosen", TypeSeal, StageSealCompanyChosen, RoleSystem, Change{Via: ViaGetSealImg, To: StatusSealCert}, StageSealCertFetched, 0},
		{"getSealImg again", TypeSeal, StageSealCertFetched, RoleSystem, Change{Via: ViaGetSealImg, To: StatusSealCert}, StageSealCertFetched, 0},
		{"getSealImg before the app chose", TypeSeal, StageScanned, RoleSystem, Change{Via: ViaGetSealImg, To: StatusSealCert}, "", CodeConflict},
		{"getSealImg on a login", TypeLogin, StageScanned, RoleSystem, Change{Via: ViaGetSealImg, To: StatusSealCert}, "", CodeConflict},
		{"getSealImg by the app", TypeSeal, StageSealCompanyChosen, RoleApp, Change{Via: ViaGetSealImg, To: StatusSealCert}, "", CodeForbidden},
		{"pdf prepare at 5", TypeSeal, StageSealCertFetched, RoleSystem, Change{Via: ViaPDFPrepare, To: StatusSealHash, Value: ptr("h")}, StageSealHashReady, 0},
		{"pdf prepare without hash", TypeSeal, StageSealCertFetched, RoleSystem, Change{Via: ViaPDFPrepare, To: StatusSealHash}, "", CodeBadRequest},
		{"pdf prepare at 2", TypeSeal, StageSealCompanyChosen, RoleSystem, Change{Via: ViaPDFPrepare, To: StatusSealHash, Value: ptr("h")}, "", CodeConflict},
		{"pdf prepare cannot move to 5", TypeSeal, StageSealCompanyChosen, RoleSystem, Change{Via: ViaPDFPrepare, To: StatusSealCert}, "", CodeConflict},
	} {
		t.Run(a.name, func(t *testing.T) {
			f.t = t
			sys, app, guid := f.reach(a.typ, a.from)
			p := app
			if a.role == RoleSystem {
				p = sys
			}
			before, _ := st.Operation(ctx, guid)
			var got store.Operation
			var err error
			if a.ch.Via == ViaGetInitMessage {
				got, err = f.svc.GetInitMessage(ctx, p, guid)
			} else {
				got, err = f.svc.Transition(ctx, p, guid, a.ch)
			}
			if a.want != "" {
				if err != nil || Stage(got.Stage) != a.want {
					t.Fatalf("got %s, %v; want %s", got.Stage, err, a.want)
				}
				return
			}
			if code, _ := InvokeCode(err); code != a.wantC {
				t.Fatalf("got %v, want invokeCode %d", err, a.wantC)
			}
			if now, _ := st.Operation(ctx, guid); now.Version != before.Version {
				t.Fatal("refused change changed the operation")
			}
		})
	}

	// The first status 2 of a seal keeps the company code and serial
	// readable after later saves overwrite value.
	t.Run("seal phase one kept", func(t *testing.T) {
		f.t = t
		_, app, guid := f.reach(TypeSeal, StageConfirmed)
		op, err := f.svc.GetInitMessage(ctx, app, guid)
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("getInitMessage on a finished seal: %v", err)
		}
		op, _ = st.Operation(ctx, guid)
		if op.SealCompanyCode != "xx" || op.SealCASerialID != "A1B2C" || *op.Value != "sig" {
			t.Fatalf("company %q serial %q value %q", op.SealCompanyCode, op.SealCASerialID, *op.Value)
		}
	})
	t.Run("seal phase one needs company and serial", func(t *testing.T) {
		f.t = t
		_, app, guid := f.reach(TypeSeal, StageScanned)
		for _, c := range []struct{ v, e *string }{
			{ptr("hash"), ptr(sealCompanyExt)},
			{ptr(sealCompanyValue), nil},
			{ptr(`{"signatureCompanyCode":""}`), ptr(sealCompanyExt)},
			{ptr(sealCompanyValue), ptr(`{"caSerialId":"not hex"}`)},
		} {
			_, err := f.svc.SaveResult(ctx, app, guid, SaveRequest{Status: StatusConfirmed, Value: c.v, ExtMessage: c.e})
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("value %v ext %v: %v, want 400", c.v, c.e, err)
			}
		}
	})
	t.Run("expired changes nothing", func(t *testing.T) {
		f.t = t
		sys, app, guid := f.reach(TypeLogin, StageScanned)
		clk.Advance(DefaultOperationTTL)
		defer clk.Advance(-DefaultOperationTTL)
		_, err := f.svc.SaveResult(ctx, app, guid, SaveRequest{Status: StatusConfirmed, Value: ptr("late")})
		if code, msg := InvokeCode(err); code != CodeExpired || msg != "二维码已过期" {
			t.Fatalf("save after expiry: %v", err)
		}
		if _, err := f.svc.Operation(ctx, sys, guid); !errors.Is(err, ErrExpired) {
			t.Fatalf("read after expiry: %v", err)
		}
		if _, err := f.svc.GetInitMessage(ctx, app, guid); !errors.Is(err, ErrExpired) {
			t.Fatalf("getInitMessage after expiry: %v", err)
		}
		op, _ := st.Operation(ctx, guid)
		if op.Status != 1 || op.Value != nil {
			t.Fatalf("expired operation changed: %+v", op)
		}
	})
}
