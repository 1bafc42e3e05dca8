package relay

import (
	"fmt"
	"strings"
)

// OpType is the guide's 操作类型 (type).
type OpType int

// The guide's operation types.
const (
	TypeSign    OpType = 1 // 签名
	TypeEncrypt OpType = 2 // 加密
	TypeDecrypt OpType = 3 // 解密
	TypeLogin   OpType = 4 // 登录
	TypeSeal    OpType = 5 // 签章
	TypeRevoke  OpType = 6 // 撤章
)

// Valid reports whether t is one of the guide's types.
func (t OpType) Valid() bool { return t >= TypeSign && t <= TypeRevoke }

func (t OpType) String() string {
	switch t {
	case TypeSign:
		return "签名"
	case TypeEncrypt:
		return "加密"
	case TypeDecrypt:
		return "解密"
	case TypeLogin:
		return "登录"
	case TypeSeal:
		return "签章"
	case TypeRevoke:
		return "撤章"
	}
	return fmt.Sprintf("类型%d", int(t))
}

// Status is the guide's 操作状态 (status) as it goes on the wire.
type Status int

// The guide's statuses.
const (
	StatusPending   Status = 0 // 未处理
	StatusScanned   Status = 1 // 已扫码
	StatusConfirmed Status = 2 // 已确认
	StatusCancelled Status = 3 // 已取消
	StatusSealHash  Status = 4 // 二次放入签章 hash
	StatusSealCert  Status = 5 // 签章控件获取证书信息成功
)

// Valid reports whether s is one of the guide's statuses.
func (s Status) Valid() bool { return s >= StatusPending && s <= StatusSealCert }

func (s Status) String() string {
	switch s {
	case StatusPending:
		return "0 未处理"
	case StatusScanned:
		return "1 已扫码"
	case StatusConfirmed:
		return "2 已确认"
	case StatusCancelled:
		return "3 已取消"
	case StatusSealHash:
		return "4 二次放入签章hash"
	case StatusSealCert:
		return "5 签章控件获取证书信息成功"
	}
	return fmt.Sprintf("%d", int(s))
}

// Stage is where an operation is in the status machine. It is finer than
// Status in one place only: the seal flow passes status 2 twice, first when
// the app has chosen a seal company (the seal control goes on) and last when
// the app has signed the hash (the end).
type Stage string

// The stages; each maps to exactly one wire status (Stage.Status).
const (
	StagePending           Stage = "pending"             // 0
	StageScanned           Stage = "scanned"             // 1
	StageConfirmed         Stage = "confirmed"           // 2, final
	StageCancelled         Stage = "cancelled"           // 3, final
	StageSealCompanyChosen Stage = "seal-company-chosen" // 2, seal: waiting for the seal control
	StageSealCertFetched   Stage = "seal-cert-fetched"   // 5, seal: the control has the seals
	StageSealHashReady     Stage = "seal-hash-ready"     // 4, seal: the hash to sign is in value
)

// Status is the wire status of the stage.
func (s Stage) Status() Status {
	switch s {
	case StagePending:
		return StatusPending
	case StageScanned:
		return StatusScanned
	case StageConfirmed, StageSealCompanyChosen:
		return StatusConfirmed
	case StageCancelled:
		return StatusCancelled
	case StageSealHashReady:
		return StatusSealHash
	case StageSealCertFetched:
		return StatusSealCert
	}
	return -1
}

// Final reports whether nothing may follow the stage.
func (s Stage) Final() bool { return s == StageConfirmed || s == StageCancelled }

// Role is what an account may do.
type Role string

// The two roles of DESIGN.md.
const (
	RoleSystem Role = "system" // trading systems and seal controls
	RoleApp    Role = "app"    // CA mobile apps
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleSystem || r == RoleApp }

// Via names the endpoint (or Go caller) a change comes through; a rule
// lists the ways it may be made.
type Via uint8

// The ways a status changes.
const (
	ViaGetInitMessage Via = 1 << iota // the app fetches the operation (/getInitMessage)
	ViaSaveResult                     // /saveCaMessageResult
	ViaGetSealImg                     // /getSealImg: the seal control fetched the seals
	ViaPDFPrepare                     // the PDF seal endpoints stored the hash to sign
)

func (v Via) String() string {
	var parts []string
	for _, p := range []struct {
		v    Via
		name string
	}{{ViaGetInitMessage, "getInitMessage"}, {ViaSaveResult, "saveCaMessageResult"}, {ViaGetSealImg, "getSealImg"}, {ViaPDFPrepare, "pdfPrepare"}} {
		if v&p.v != 0 {
			parts = append(parts, p.name)
		}
	}
	return strings.Join(parts, "|")
}

// Effect is what a change writes besides the status.
type Effect uint8

// The effects.
const (
	// EffectStatusOnly leaves value and extMessage as they are.
	EffectStatusOnly Effect = iota
	// EffectSaveResult replaces value and extMessage with what was sent.
	EffectSaveResult
	// EffectSealCompany is EffectSaveResult that also records the seal
	// company code (from value) and certificate serial (from extMessage),
	// which later steps read after value has been overwritten.
	EffectSealCompany
	// EffectSealHash is EffectSaveResult that also records the hash to
	// sign (value) and its extMessage, which the app's answer overwrites
	// and the results API checks that answer against.
	EffectSealHash
	// EffectSealSigned is EffectSaveResult for the app's signature of the
	// seal hash, refused (412) when the certificate it carries is not the
	// one whose seals the app chose (caSerialId): else a person could put a
	// company's seal on a PDF under their own signature.
	EffectSealSigned
)

// Rule is one allowed change: an operation of one of Types at stage From
// may go to stage To when an account of Role asks through one of Via.
type Rule struct {
	Types     []OpType
	From, To  Stage
	Role      Role
	Via       Via
	NeedValue bool // the change must carry a non-empty value
	Effect    Effect
}

// Transitions is the status machine: the only changes the relay makes.
// Anything not listed is refused and changes nothing. (Expiry is checked
// before the table: an expired operation changes no more.)
func Transitions() []Rule {
	plain := []OpType{TypeSign, TypeEncrypt, TypeDecrypt, TypeLogin, TypeRevoke}
	seal := []OpType{TypeSeal}
	all := []OpType{TypeSign, TypeEncrypt, TypeDecrypt, TypeLogin, TypeSeal, TypeRevoke}
	app, sys := RoleApp, RoleSystem
	scan := ViaGetInitMessage | ViaSaveResult
	return []Rule{
		// Every type: the app scans (fetching the operation moves it; an app
		// may also save status 1 itself, again without harm) or declines.
		{all, StagePending, StageScanned, app, scan, false, EffectStatusOnly},
		{all, StageScanned, StageScanned, app, ViaSaveResult, false, EffectStatusOnly},
		{all, StagePending, StageCancelled, app, ViaSaveResult, false, EffectSaveResult},
		{all, StageScanned, StageCancelled, app, ViaSaveResult, false, EffectSaveResult},

		// Sign, encrypt, decrypt, login, take back a seal: one answer ends it.
		{plain, StageScanned, StageConfirmed, app, ViaSaveResult, true, EffectSaveResult},

		// Seal (guide 三.5): the app names its seal company and certificate,
		// the seal control fetches the seals (5), stores the PDF hash to sign
		// (4), and the app's signature ends it; the app may decline at any
		// step.
		{seal, StageScanned, StageSealCompanyChosen, app, ViaSaveResult, true, EffectSealCompany},
		{seal, StageSealCompanyChosen, StageSealCertFetched, sys, ViaGetSealImg | ViaSaveResult, false, EffectStatusOnly},
		{seal, StageSealCertFetched, StageSealCertFetched, sys, ViaGetSealImg, false, EffectStatusOnly}, // the control fetches again
		{seal, StageSealCertFetched, StageSealHashReady, sys, ViaPDFPrepare | ViaSaveResult, true, EffectSealHash},
		{seal, StageSealHashReady, StageConfirmed, app, ViaSaveResult, true, EffectSealSigned},
		{seal, StageSealCompanyChosen, StageCancelled, app, ViaSaveResult, false, EffectSaveResult},
		{seal, StageSealCertFetched, StageCancelled, app, ViaSaveResult, false, EffectSaveResult},
		{seal, StageSealHashReady, StageCancelled, app, ViaSaveResult, false, EffectSaveResult},
	}
}

// machine answers "may this change happen" from the table.
type machine struct{ rules []Rule }

func newMachine() machine { return machine{rules: Transitions()} }

// find returns the rule for moving an operation of type t at stage from to
// wire status to, asked by role through via, or the refusal to answer.
func (m machine) find(t OpType, from Stage, to Status, role Role, via Via) (Rule, error) {
	var candidates []Rule
	for _, r := range m.rules {
		if r.From == from && r.To.Status() == to && hasType(r.Types, t) {
			candidates = append(candidates, r)
		}
	}
	if len(candidates) == 0 {
		if from.Final() {
			return Rule{}, fail(CodeConflict, "操作已结束（状态 %s），不能再变更", from.Status())
		}
		return Rule{}, fail(CodeConflict, "%s操作的状态不能从 %s 变为 %s", t, from.Status(), to)
	}
	var sameVia []Rule
	for _, r := range candidates {
		if r.Via&via != 0 {
			sameVia = append(sameVia, r)
		}
	}
	if len(sameVia) == 0 {
		return Rule{}, fail(CodeConflict, "%s操作的状态不能通过此接口从 %s 变为 %s", t, from.Status(), to)
	}
	for _, r := range sameVia {
		if r.Role == role {
			return r, nil
		}
	}
	return Rule{}, fail(CodeForbidden, "%s账号不能把%s操作的状态从 %s 变为 %s", roleName(role), t, from.Status(), to)
}

func hasType(ts []OpType, t OpType) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func roleName(r Role) string {
	switch r {
	case RoleSystem:
		return "交易系统（system）"
	case RoleApp:
		return "APP（app）"
	}
	return string(r)
}
