package relay

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/scansign/scansign/seal"
	sealclient "github.com/scansign/scansign/seal/client"
)

// SealCompanies is where /getSealImg gets a certificate's seals: the
// registry of configured seal companies (*seal/client.Registry), keyed by
// the signatureCompanyCode the app saved.
type SealCompanies interface {
	GetSeals(ctx context.Context, companyCode, caSerialID string) (*sealclient.Result, error)
}

// SealImages serves the guide's /getSealImg (二.2.8, 三.5 steps 7–8): the
// seal control asks for the seals of the certificate the app named, the
// relay asks that certificate's seal company, hands the images over and
// moves the operation to status 5.
type SealImages struct {
	svc       *Service
	companies SealCompanies
}

// NewSealImages builds /getSealImg on svc, asking companies.
func NewSealImages(svc *Service, companies SealCompanies) (*SealImages, error) {
	if svc == nil || companies == nil {
		return nil, errors.New("relay: NewSealImages needs the Service and the seal companies")
	}
	return &SealImages{svc: svc, companies: companies}, nil
}

// Mount puts /getSealImg (GET and POST, decoded like every guide
// endpoint) on r, beside Service.Mount's endpoints.
func (si *SealImages) Mount(r chi.Router) {
	h := si.svc.Endpoint(si.handle)
	r.Get("/getSealImg", h)
	r.Post("/getSealImg", h)
}

// SealImgResult is /getSealImg's answer, field for field the guide's
// example: {"invokeCode":1,"signInfos":[{signName, signWidth, signHeight,
// img, description}]}.
type SealImgResult struct {
	InvokeCode int            `json:"invokeCode"`
	SignInfos  []seal.SealImg `json:"signInfos"`
}

func (si *SealImages) handle(r *http.Request, p Params) (any, error) {
	guid, err := guidParam(p)
	if err != nil {
		return nil, err
	}
	return si.GetSealImg(r.Context(), p.Get("token"), guid)
}

// GetSealImg is /getSealImg for a token and a canonical guid: a system
// token bound to a seal operation whose app has named its seal company
// and certificate (status 2, or 5 when the control asks again). Whatever
// goes wrong with the seal company — unknown code, down, slow, an error
// answer, no seals — is refused with its own invokeCode and the
// operation stays as it was; only a successful answer moves it to 5.
func (si *SealImages) GetSealImg(ctx context.Context, token, guid string) (*SealImgResult, error) {
	s := si.svc
	p, op, err := s.AuthenticateOperation(ctx, token, guid)
	if err != nil {
		return nil, err
	}
	if p.Role != RoleSystem {
		return nil, fail(CodeForbidden, "只有交易系统或签章控件（system）账号可以获取签章图片")
	}
	if OpType(op.Type) != TypeSeal {
		return nil, fail(CodeConflict, "该操作是%s操作，不是签章操作，不能获取签章图片", OpType(op.Type))
	}
	switch stage := Stage(op.Stage); stage {
	case StageSealCompanyChosen, StageSealCertFetched:
	case StagePending, StageScanned:
		return nil, fail(CodeConflict, "APP 尚未选择签章公司和证书（当前状态 %s），请稍后再试", stage.Status())
	case StageSealHashReady:
		return nil, fail(CodeConflict, "签章 hash 已存入（状态 %s），不能再获取签章图片", stage.Status())
	default:
		return nil, fail(CodeConflict, "操作已结束（状态 %s），不能再获取签章图片", stage.Status())
	}
	if op.SealCompanyCode == "" || op.SealCASerialID == "" {
		return nil, internal(fmt.Errorf("seal operation %s at stage %s without company code or serial", op.GUID, op.Stage))
	}

	res, err := si.companies.GetSeals(ctx, op.SealCompanyCode, op.SealCASerialID)
	if err != nil {
		refusal := sealCompanyRefusal(err)
		s.log.WarnContext(ctx, "getSealImg: no seals from the seal company", "guid", op.GUID, "company", logName(op.SealCompanyCode),
			"invokeCode", refusal.Code, "err", err)
		return nil, refusal
	}
	// Re-read and move: the call took a while, and the operation may have
	// expired, been cancelled or been fetched by another request meanwhile;
	// Transition decides on what is there now.
	if _, err := s.Transition(ctx, p, guid, Change{Via: ViaGetSealImg, To: StatusSealCert}); err != nil {
		return nil, err
	}
	return &SealImgResult{InvokeCode: CodeOK, SignInfos: res.SealImgs()}, nil
}

// sealCompanyRefusal turns a seal/client failure into the invokeCode the
// seal control gets, with the client's Chinese failMessage.
func sealCompanyRefusal(err error) *Error {
	code := CodeBadGateway
	switch {
	case errors.Is(err, sealclient.ErrUnknownCompany), errors.Is(err, sealclient.ErrBadSerial):
		code = CodeUnknownCompany
	case errors.Is(err, sealclient.ErrNoSeals):
		code = CodeNoSeals
	case errors.Is(err, sealclient.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		code = CodeGatewayTimeout
	case errors.Is(err, sealclient.ErrUnreachable), errors.Is(err, sealclient.ErrCompanyError), errors.Is(err, sealclient.ErrBadAnswer):
	default:
		return internal(fmt.Errorf("seal company: %w", err))
	}
	return &Error{Code: code, Message: sealclient.FailMessage(err), Err: err}
}
