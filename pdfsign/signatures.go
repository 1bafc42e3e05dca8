package pdfsign

import (
	"bytes"
	"fmt"
	"io"
	"sort"

	"github.com/scansign/scansign/pdfsign/internal/pdf"
)

// sigField is one signature field with its value, as found in the form.
type sigField struct {
	name      string
	ref       pdf.Ref // the field (for our seals, field and widget are one)
	dict      pdf.Dict
	vRef      pdf.Ref
	v         pdf.Dict // the signature dictionary
	subFilter string
	br        [4]int64
	brOK      bool
	contents  []byte
	pageRef   pdf.Ref
	rect      [4]float64
}

// end is where the signed revision ends.
func (s *sigField) end() int64 { return s.br[2] + s.br[3] }

// empty reports whether the signature is still a placeholder.
func (s *sigField) empty() bool {
	for _, b := range s.contents {
		if b != 0 {
			return false
		}
	}
	return true
}

// signatures lists the document's signed or prepared signature fields in
// the order they were signed (by where their byte ranges end).
func (d *document) signatures() ([]*sigField, error) {
	var out []*sigField
	form, err := d.r.Dict(d.catalog["AcroForm"])
	if err != nil {
		return nil, malformed(err)
	}
	if form == nil {
		return nil, nil
	}
	fields, err := d.r.Array(form["Fields"])
	if err != nil {
		return nil, malformed(err)
	}
	var walkErr error
	err = d.walkFields(fields, "", 0, map[pdf.Ref]bool{}, func(name string, ref pdf.Ref, f pdf.Dict) {
		if walkErr != nil || len(out) >= maxSignatures {
			return
		}
		ft, _ := f.Name("FT")
		vRef, isRef := f["V"].(pdf.Ref)
		if ft != "Sig" || f["V"] == nil {
			return
		}
		v, err := d.r.Dict(f["V"])
		if err != nil {
			walkErr = err
			return
		}
		if v == nil {
			return
		}
		s := &sigField{name: name, ref: ref, dict: f, v: v}
		if isRef {
			s.vRef = vRef
		}
		sf, _ := v.Name("SubFilter")
		s.subFilter = string(sf)
		s.contents, _ = pdf.StringBytes(v["Contents"])
		if br, err := d.r.Array(v["ByteRange"]); err == nil && len(br) == 4 {
			s.brOK = true
			for i, e := range br {
				n, ok := e.(pdf.Integer)
				if !ok || n < 0 {
					s.brOK = false
					break
				}
				s.br[i] = int64(n)
			}
		}
		s.pageRef, _ = f["P"].(pdf.Ref)
		if r, err := d.r.Array(f["Rect"]); err == nil && len(r) == 4 {
			for i, e := range r {
				s.rect[i], _ = pdf.Number(e)
			}
		}
		// A widget kid carries the page and rectangle when the field has one.
		if kids, _ := d.r.Array(f["Kids"]); len(kids) > 0 {
			if kd, _ := d.r.Dict(kids[0]); kd != nil {
				if p, ok := kd["P"].(pdf.Ref); ok {
					s.pageRef = p
				}
				if r, err := d.r.Array(kd["Rect"]); err == nil && len(r) == 4 {
					for i, e := range r {
						s.rect[i], _ = pdf.Number(e)
					}
				}
			}
		}
		out = append(out, s)
	})
	if err == nil {
		err = walkErr
	}
	if err != nil {
		return nil, malformed(err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].end() < out[j].end() })
	return out, nil
}

// maxSignatures bounds how many signatures one document may carry here.
const maxSignatures = 1000

// checkGap verifies that a signature's byte range is well formed for a file
// of size bytes and that the gap is exactly its /Contents hex string.
func checkGap(src io.ReaderAt, size int64, s *sigField) error {
	br := s.br
	if !s.brOK || br[0] != 0 || br[1] <= 0 || br[2] <= br[1]+1 || br[3] < 0 || br[2]+br[3] > size {
		return fmt.Errorf("byte range %v is not [0 a b c] inside the file", br)
	}
	gap := br[2] - br[1]
	if gap != int64(2*len(s.contents)+2) {
		return fmt.Errorf("the gap of %d bytes is not the /Contents string (%d bytes of signature)", gap, len(s.contents))
	}
	var ends [2]byte
	if _, err := src.ReadAt(ends[:1], br[1]); err != nil {
		return err
	}
	if _, err := src.ReadAt(ends[1:], br[2]-1); err != nil {
		return err
	}
	if ends[0] != '<' || ends[1] != '>' {
		return fmt.Errorf("the gap does not hold a hex string")
	}
	// The key just before the gap must be /Contents, so the gap cannot hide
	// other parts of the dictionary.
	n := min(br[1], 64)
	before := make([]byte, n)
	if _, err := src.ReadAt(before, br[1]-n); err != nil {
		return err
	}
	if !bytes.HasSuffix(bytes.TrimRight(before, " \t\r\n\f\x00"), []byte("/Contents")) {
		return fmt.Errorf("the gap does not follow /Contents")
	}
	return nil
}
