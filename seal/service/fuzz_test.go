package service

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzDecodeRequest: no input panics the decoder, and what it accepts is
// within the field limits.
func FuzzDecodeRequest(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "caSerialId=1", []byte("accountName=a&password=b"))
	f.Add("Application/x-www-form-urlencoded;charset=utf-8", "", []byte("caSerialId=ab%3Acd&accountName=a&password=b"))
	f.Add("application/json", "", []byte(`{"caSerialId":"ab","accountName":"a","password":1e3}`))
	f.Add("", "x=%zz", []byte(`{"caSerialId":null}`))
	f.Add("multipart/form-data; boundary=X", "", []byte("--X\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\np\r\n--X--\r\n"))
	f.Add("text/plain", "a=b", []byte("caSerialId=1&caSerialId=2"))
	f.Fuzz(func(t *testing.T, contentType, query string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/api/getSeal", bytes.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", contentType)
		req, err := decodeRequest(r, 4096)
		if err != nil {
			return
		}
		for _, v := range []string{req.CASerialID, req.AccountName, req.Password} {
			if len(v) > maxFieldLen {
				t.Fatalf("accepted a %d-byte field", len(v))
			}
		}
	})
}
