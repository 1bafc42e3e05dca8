package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// maxFieldLen bounds each input field: serials are at most 64 hex digits
// plus separators, account names and passwords are short.
const maxFieldLen = 256

// request is the input of /api/getSeal.
type request struct {
	CASerialID  string
	AccountName string
	Password    string
}

// Field names exactly as the guide spells them.
const (
	fieldSerial   = "caSerialId"
	fieldAccount  = "accountName"
	fieldPassword = "password"
)

var errTooLarge = errors.New("request body too large")

// badRequest is a decoding failure with the Chinese reason for the caller.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func bad(format string, args ...any) error { return &badRequest{fmt.Sprintf(format, args...)} }

// decodeRequest reads the fields from the query string and the body (form,
// multipart or JSON); a body field wins over the same query field. The body
// is read through a limit of maxBody bytes.
func decodeRequest(r *http.Request, maxBody int64) (request, error) {
	fields := map[string]string{}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return request{}, bad("查询参数格式错误")
	}
	take(fields, q)

	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return request{}, errTooLarge
		}
		return request{}, bad("读取请求数据失败")
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := decodeBody(r.Header.Get("Content-Type"), body, fields); err != nil {
			return request{}, err
		}
	}
	req := request{CASerialID: fields[fieldSerial], AccountName: fields[fieldAccount], Password: fields[fieldPassword]}
	for name, v := range map[string]string{fieldSerial: req.CASerialID, fieldAccount: req.AccountName, fieldPassword: req.Password} {
		if len(v) > maxFieldLen {
			return request{}, bad("参数 %s 过长", name)
		}
	}
	return req, nil
}

func decodeBody(contentType string, body []byte, fields map[string]string) error {
	// Only the part before ';' decides, read leniently: callers send
	// "Application/x-www-form-urlencoded;utf-8", which mime.ParseMediaType
	// refuses (a parameter without '='), as the relay's endpoints accept it.
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	if mediaType == "" || mediaType == "text/plain" {
		// Callers that forget the header: a JSON object starts with '{',
		// anything else is taken as a form.
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			mediaType = "application/json"
		} else {
			mediaType = "application/x-www-form-urlencoded"
		}
	}
	switch {
	case mediaType == "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return bad("表单数据格式错误")
		}
		take(fields, v)
	case mediaType == "multipart/form-data":
		_, params, err := mime.ParseMediaType(contentType)
		if err != nil || params["boundary"] == "" {
			return bad("multipart 请求缺少 boundary")
		}
		form, err := multipart.NewReader(bytes.NewReader(body), params["boundary"]).ReadForm(int64(len(body)) + 1)
		if err != nil {
			return bad("表单数据格式错误")
		}
		defer form.RemoveAll()
		take(fields, form.Value)
	case mediaType == "application/json" || mediaType == "text/json" || strings.HasSuffix(mediaType, "+json"):
		return decodeJSON(body, fields)
	default:
		return bad("不支持的请求格式 %s", mediaType)
	}
	return nil
}

// take copies the first value of each guide field present in v.
func take(fields map[string]string, v map[string][]string) {
	for _, name := range []string{fieldSerial, fieldAccount, fieldPassword} {
		if vals := v[name]; len(vals) > 0 {
			fields[name] = vals[0]
		}
	}
}

// decodeJSON reads a JSON object; the guide's fields may be strings or
// numbers (a serial of decimal digits sent as a number), null means absent,
// other fields are ignored.
func decodeJSON(body []byte, fields map[string]string) error {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return bad("JSON 数据格式错误")
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		return bad("JSON 数据格式错误") // something after the object
	}
	for _, name := range []string{fieldSerial, fieldAccount, fieldPassword} {
		raw, ok := obj[name]
		if !ok {
			continue
		}
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return bad("JSON 数据格式错误")
		}
		switch x := v.(type) {
		case nil:
		case string:
			fields[name] = x
		case json.Number:
			fields[name] = x.String()
		default:
			return bad("参数 %s 应为字符串", name)
		}
	}
	return nil
}

// quoteForLog keeps a caller-sent value short and printable in a log line.
func quoteForLog(s string) string {
	if len(s) > 80 {
		s = s[:80]
	}
	return strconv.Quote(s)
}
