package pdfsign

import (
	"fmt"
	"io"
	"sort"

	"github.com/scansign/scansign/pdfsign/internal/pdf"
)

// laterChanges looks at every object the revisions after offset end add or
// change, and says whether together they only add signatures: new
// signature values, signature fields and their widgets, appearance streams
// and images, the page's /Annots and the form's /Fields growing, and the
// catalog gaining a form or a DSS. Anything else is listed.
func laterChanges(r *pdf.Reader, src io.ReaderAt, end int64) (onlySigs bool, changes []string, err error) {
	prev, err := pdf.Open(io.NewSectionReader(src, 0, end), end)
	if err != nil {
		return false, nil, fmt.Errorf("the signed revision cannot be read on its own: %w", err)
	}
	changed := map[int]int{} // object number -> generation
	for _, s := range r.Sections {
		if s.Offset < end {
			continue
		}
		for _, num := range s.Objects {
			if gen, ok := s.InUse(num); ok {
				if _, seen := changed[num]; !seen {
					changed[num] = gen
				}
			}
		}
	}
	nums := make([]int, 0, len(changed))
	for n := range changed {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, num := range nums {
		ref := pdf.Ref{Num: num, Gen: changed[num]}
		now, err := r.Object(ref)
		if err != nil {
			return false, nil, err
		}
		before, err := prev.Object(ref)
		if err != nil {
			before = pdf.Null{}
		}
		if why := allowedChange(r, before, now); why != "" {
			changes = append(changes, fmt.Sprintf("object %d: %s", num, why))
			if len(changes) >= 20 {
				break
			}
		}
	}
	return len(changes) == 0, changes, nil
}

// allowedChange returns "" when the change from before to now belongs to
// adding a signature, else what it is.
func allowedChange(r *pdf.Reader, before, now pdf.Object) string {
	nd := dictOf(now)
	if _, isNew := before.(pdf.Null); isNew {
		switch now.(type) {
		case pdf.Array, pdf.Integer:
			return "" // /Annots or /Fields arrays, stream lengths
		}
		if nd == nil {
			return fmt.Sprintf("a new %T", now)
		}
		t, _ := nd.Name("Type")
		st, _ := nd.Name("Subtype")
		ft, _ := nd.Name("FT")
		switch {
		case t == "Sig" || t == "DocTimeStamp" || t == "XRef" || t == "ObjStm" || t == "DSS" || t == "VRI":
			return ""
		case t == "XObject" || st == "Image" || st == "Form":
			return ""
		case t == "Font" || t == "FontDescriptor" || t == "ExtGState" || t == "Encoding":
			return "" // appearance resources
		case (t == "Annot" || st == "Widget") && ft == "Sig":
			return ""
		case st == "Widget" && parentIsSig(r, nd):
			return ""
		case ft == "Sig":
			return ""
		case t == "" && st == "" && isStream(now):
			return "" // DSS certificates, CRLs and OCSP responses
		case t == "" && nd["Fields"] != nil:
			return "" // a new AcroForm
		}
		return fmt.Sprintf("a new /%s object", firstNonEmpty(string(t), string(st), "untyped"))
	}
	bd := dictOf(before)
	switch b := before.(type) {
	case pdf.Array:
		a, ok := now.(pdf.Array)
		if !ok || !containsAll(a, b) {
			return "an array lost entries"
		}
		for _, e := range a {
			if !contains(b, e) && !isSigFieldRef(r, e) {
				return "an array gained something other than a signature field"
			}
		}
		return ""
	}
	if bd == nil || nd == nil {
		return "changed"
	}
	var allowed map[pdf.Name]bool
	t, _ := bd.Name("Type")
	switch {
	case t == "Catalog":
		allowed = map[pdf.Name]bool{"AcroForm": true, "DSS": true, "Extensions": true}
	case t == "Page":
		allowed = map[pdf.Name]bool{"Annots": true}
	case bd["Fields"] != nil || bd["SigFlags"] != nil:
		allowed = map[pdf.Name]bool{"Fields": true, "SigFlags": true, "DR": true}
	case fieldIsSig(bd):
		allowed = map[pdf.Name]bool{"V": true, "AP": true, "F": true, "MK": true, "DA": true}
	default:
		return fmt.Sprintf("a /%s object changed", firstNonEmpty(string(t), "untyped"))
	}
	for k := range union(bd, nd) {
		if allowed[k] {
			continue
		}
		if !sameObject(bd[k], nd[k]) {
			return fmt.Sprintf("/%s of a /%s changed", k, firstNonEmpty(string(t), "field"))
		}
	}
	return ""
}

func dictOf(o pdf.Object) pdf.Dict {
	switch v := o.(type) {
	case pdf.Dict:
		return v
	case *pdf.Stream:
		return v.Dict
	}
	return nil
}

func isStream(o pdf.Object) bool { _, ok := o.(*pdf.Stream); return ok }

func fieldIsSig(d pdf.Dict) bool {
	ft, _ := d.Name("FT")
	return ft == "Sig"
}

func parentIsSig(r *pdf.Reader, d pdf.Dict) bool {
	p, err := r.Dict(d["Parent"])
	return err == nil && p != nil && fieldIsSig(p)
}

func isSigFieldRef(r *pdf.Reader, o pdf.Object) bool {
	d, err := r.Dict(o)
	return err == nil && d != nil && (fieldIsSig(d) || parentIsSig(r, d))
}

func contains(a pdf.Array, e pdf.Object) bool {
	for _, x := range a {
		if sameObject(x, e) {
			return true
		}
	}
	return false
}

func containsAll(a, b pdf.Array) bool {
	for _, e := range b {
		if !contains(a, e) {
			return false
		}
	}
	return true
}

func union(a, b pdf.Dict) map[pdf.Name]bool {
	out := map[pdf.Name]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// sameObject compares two direct objects structurally (references by
// number, not by what they point to).
func sameObject(a, b pdf.Object) bool {
	switch x := a.(type) {
	case pdf.Array:
		y, ok := b.(pdf.Array)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameObject(x[i], y[i]) {
				return false
			}
		}
		return true
	case pdf.Dict:
		y, ok := b.(pdf.Dict)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if !sameObject(v, y[k]) {
				return false
			}
		}
		return true
	case *pdf.Stream:
		return false
	case pdf.String, pdf.HexString:
		xb, _ := pdf.StringBytes(a)
		yb, ok := pdf.StringBytes(b)
		return ok && string(xb) == string(yb)
	}
	return a == b
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
