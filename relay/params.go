package relay

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Params are a request's parameters, merged from the query string and the
// body (form-urlencoded or JSON), as the guide's endpoints accept them.
type Params struct{ m map[string]string }

// Get returns a parameter ("" when absent).
func (p Params) Get(name string) string { return p.m[name] }

// Lookup returns a parameter and whether it was sent.
func (p Params) Lookup(name string) (string, bool) {
	v, ok := p.m[name]
	return v, ok
}

// Optional returns a pointer to the parameter, nil when absent.
func (p Params) Optional(name string) *string {
	if v, ok := p.m[name]; ok {
		return &v
	}
	return nil
}

// Len is the number of parameters.
func (p Params) Len() int { return len(p.m) }

// DecodeParams reads a request's parameters: the query string (GET or POST)
// and a body that is form-urlencoded (any charset suffix or letter case,
// e.g. the guide's "Application/x-www-form-urlencoded;utf-8") or a JSON
// object (strings, numbers and booleans as their text; nested objects and
// arrays as compact JSON text; null as absent). A body without a content
// type is JSON if it starts with '{', else a form.
//
// Refused (as *Error): a body over the limit or a field over its limit
// (413); malformed encoding, invalid UTF-8, a NUL, too many parameters, or
// one name given twice with different values (400).
func DecodeParams(r *http.Request, l Limits) (Params, error) {
	l = l.withDefaults()
	p := Params{m: make(map[string]string)}
	if err := p.addForm(r.URL.RawQuery, l, "查询字符串"); err != nil {
		return p, err
	}
	if r.Body == nil || r.Body == http.NoBody {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, l.BodyBytes+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return p, fail(CodeTooLarge, "请求体过大（最多 %d 字节）", l.BodyBytes)
		}
		return p, fail(CodeBadRequest, "读取请求体失败")
	}
	if int64(len(body)) > l.BodyBytes {
		return p, fail(CodeTooLarge, "请求体过大（最多 %d 字节）", l.BodyBytes)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	switch bodyKind(r.Header.Get("Content-Type"), body) {
	case kindJSON:
		return p, p.addJSON(body, l)
	case kindForm:
		return p, p.addForm(string(body), l, "请求体")
	}
	return p, fail(CodeBadRequest, "不支持的 Content-Type，请用 application/x-www-form-urlencoded 或 application/json")
}

type kind int

const (
	kindUnsupported kind = iota
	kindForm
	kindJSON
)

// bodyKind reads the media type leniently: the guide's own example
// ("Application/x-www-form-urlencoded;utf-8") is not valid for
// mime.ParseMediaType, so only the part before ';' is looked at.
func bodyKind(contentType string, body []byte) kind {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	switch {
	case mt == "application/x-www-form-urlencoded":
		return kindForm
	case mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json"):
		return kindJSON
	case mt == "" || mt == "text/plain":
		if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
			return kindJSON
		}
		return kindForm
	}
	return kindUnsupported
}

// addForm parses a=b&c=d. It is url.ParseQuery without its refusal of
// ';' (a literal ';' in a value is just a character here), and with a clear
// answer for a bad escape.
func (p Params) addForm(s string, l Limits, where string) error {
	for s != "" {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(rawName)
		value, err2 := url.QueryUnescape(rawValue)
		if err1 != nil || err2 != nil {
			return fail(CodeBadRequest, "%s中有无效的 %% 转义", where)
		}
		if err := p.add(strings.TrimSpace(name), value, l); err != nil {
			return err
		}
	}
	return nil
}

// addJSON reads one JSON object, keeping an eye on duplicate names.
func (p Params) addJSON(body []byte, l Limits) error {
	bad := fail(CodeBadRequest, "请求体不是有效的 JSON 对象")
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return bad
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return bad
		}
		name, ok := t.(string)
		if !ok {
			return bad
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return bad
		}
		value, present, err := jsonText(raw)
		if err != nil {
			return bad
		}
		if !present {
			continue
		}
		if err := p.add(name, value, l); err != nil {
			return err
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return bad
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad // something after the object
	}
	return nil
}

// jsonText turns one JSON value into the text a form would have carried.
func jsonText(raw json.RawMessage) (string, bool, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return "", false, errors.New("empty")
	case raw[0] == '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, true, err
	case bytes.Equal(raw, []byte("null")):
		return "", false, nil
	case raw[0] == '{' || raw[0] == '[':
		var buf bytes.Buffer
		err := json.Compact(&buf, raw)
		return buf.String(), true, err
	}
	return string(raw), true, nil // number, true, false (already validated)
}

func (p Params) add(name, value string, l Limits) error {
	if name == "" {
		return nil
	}
	if !utf8.ValidString(name) || !utf8.ValidString(value) {
		return fail(CodeBadRequest, "参数须为 UTF-8 编码")
	}
	if strings.ContainsRune(name, 0) || strings.ContainsRune(value, 0) {
		return fail(CodeBadRequest, "参数中不能含有 NUL 字符")
	}
	if len(name) > 64 {
		return fail(CodeBadRequest, "参数名过长")
	}
	if max := l.field(name); len(value) > max {
		return fail(CodeTooLarge, "参数 %s 过长（最多 %d 字节）", name, max)
	}
	if old, ok := p.m[name]; ok {
		if old != value {
			return fail(CodeBadRequest, "参数 %s 给出了两个不同的值", name)
		}
		return nil
	}
	if len(p.m) >= l.MaxParams {
		return fail(CodeBadRequest, "参数过多（最多 %d 个）", l.MaxParams)
	}
	p.m[name] = value
	return nil
}
