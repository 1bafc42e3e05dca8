package httpjson

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentType labels every JSON answer.
const ContentType = "application/json;charset=utf-8"

// fallback answers a value that does not encode (a bug), in the fields
// of both the guide's answers and the REST APIs' errors.
const fallback = `{"invokeCode":500,"failMessage":"服务内部错误，请稍后重试","code":"internal","message":"服务内部错误，请稍后重试"}`

// Write answers status with v, ending in a newline so a curl session
// reads well. A v that does not encode is answered 500 and its error
// returned.
func Write(w http.ResponseWriter, status int, v any) error { return write(w, status, v, true) }

// WriteExact is Write without the final newline: the guide's endpoints
// answer byte for byte as its examples show.
func WriteExact(w http.ResponseWriter, status int, v any) error { return write(w, status, v, false) }

func write(w http.ResponseWriter, status int, v any, newline bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	body := buf.Bytes()
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(fallback+"\n")
	}
	if !newline {
		body = bytes.TrimSuffix(body, []byte("\n"))
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
	return err
}
