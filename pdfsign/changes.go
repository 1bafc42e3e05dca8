package pdfsign

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/scansign/scansign/pdfsign/internal/pdf"
)

// laterChanges looks at every object the revisions after offset end add,
// change or delete, and says whether together they only add signatures:
// new signature values, new signature fields and their widgets and
// appearances, the page's /Annots and the form's /Fields gaining them,
// /SigFlags, and the catalog gaining a form or a DSS. An already-signed
// field may not change at all — a new /AP or /V on it would show or claim
// something its signer never signed — and nothing may be deleted or lose
// entries. Anything else is listed.
func laterChanges(r *pdf.Reader, src io.ReaderAt, end int64) (onlySigs bool, changes []string, err error) {
	prev, err := pdf.Open(io.NewSectionReader(src, 0, end), end)
	if err != nil {
		return false, nil, fmt.Errorf("the signed revision cannot be read on its own: %w", err)
	}
	type def struct {
		gen   int
		inUse bool
	}
	newest := map[int]def{} // object number -> its newest definition after end
	for _, s := range r.Sections {
		if s.Offset < end {
			continue
		}
		s.Each(func(num, gen int, inUse bool) {
			if _, seen := newest[num]; !seen {
				newest[num] = def{gen, inUse}
			}
		})
	}
	nums := make([]int, 0, len(newest))
	for n := range newest {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	c := changeCheck{now: r, before: prev}
	for _, num := range nums {
		d := newest[num]
		prevGen, existed := prev.Generation(num)
		var why string
		switch {
		case !d.inUse && existed:
			why = "deleted"
		case !d.inUse:
			continue // freeing what was already free
		case existed && prevGen != d.gen:
			why = fmt.Sprintf("replaced by a new object (generation %d)", d.gen)
		default:
			ref := pdf.Ref{Num: num, Gen: d.gen}
			now, err := r.Object(ref)
			if err != nil {
				return false, nil, err
			}
			before, err := prev.Object(ref)
			if err != nil {
				before = pdf.Null{}
			}
			why = c.allowed(before, now)
		}
		if why != "" {
			changes = append(changes, fmt.Sprintf("object %d: %s", num, why))
			if len(changes) >= 20 {
				break
			}
		}
	}
	return len(changes) == 0, changes, nil
}

// changeCheck judges one object's change between the signed revision
// (before) and the whole document (now).
type changeCheck struct {
	now, before *pdf.Reader
}

// allowed returns "" when the change from before to now belongs to adding
// a signature, else what it is.
func (c changeCheck) allowed(before, now pdf.Object) string {
	r := c.now
	nd := dictOf(now)
	if _, isNew := before.(pdf.Null); isNew {
		switch now.(type) {
		case pdf.Array, pdf.Integer:
			return "" // /Annots or /Fields arrays (judged where they are used), stream lengths
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
			return "" // a new AcroForm (the catalog's change is judged with it)
		}
		return fmt.Sprintf("a new /%s object", firstNonEmpty(string(t), string(st), "untyped"))
	}
	if b, ok := before.(pdf.Array); ok {
		return c.arrayGrows(b, now)
	}
	bd := dictOf(before)
	if bd == nil || nd == nil {
		return "changed"
	}
	if isStream(before) || isStream(now) {
		// A stream's data is not compared: any new version of an existing
		// stream is a change (content, appearance, image).
		t, _ := bd.Name("Type")
		return fmt.Sprintf("a /%s stream changed", firstNonEmpty(string(t), "untyped"))
	}
	// What each kind of object may change, and how.
	var allowed map[pdf.Name]func(b, n pdf.Object) string
	anyValue := func(_, _ pdf.Object) string { return "" }
	t, _ := bd.Name("Type")
	st, _ := bd.Name("Subtype")
	switch {
	case t == "Catalog":
		allowed = map[pdf.Name]func(b, n pdf.Object) string{"AcroForm": c.formGrows, "DSS": anyValue, "Extensions": anyValue}
	case t == "Page":
		allowed = map[pdf.Name]func(b, n pdf.Object) string{"Annots": c.arrayGrows}
	case fieldIsSig(bd) && bd["V"] != nil:
		if keys := changedKeys(bd, nd); len(keys) > 0 {
			return "an already-signed signature field changed (/" + strings.Join(keys, ", /") + ")"
		}
		return ""
	case fieldIsSig(bd):
		// An empty signature field being signed.
		allowed = map[pdf.Name]func(b, n pdf.Object) string{"V": anyValue, "AP": anyValue, "F": anyValue, "MK": anyValue, "DA": anyValue, "M": anyValue}
	case st == "Widget" && c.parentIsEmptySig(bd):
		allowed = map[pdf.Name]func(b, n pdf.Object) string{"AP": anyValue, "F": anyValue, "MK": anyValue, "DA": anyValue, "M": anyValue}
	case bd["Fields"] != nil || bd["SigFlags"] != nil:
		allowed = map[pdf.Name]func(b, n pdf.Object) string{"Fields": c.arrayGrows, "SigFlags": anyValue, "DR": anyValue}
	default:
		return fmt.Sprintf("a /%s object changed", firstNonEmpty(string(t), string(st), "untyped"))
	}
	for k := range union(bd, nd) {
		if sameObject(bd[k], nd[k]) {
			continue
		}
		check, ok := allowed[k]
		if !ok {
			return fmt.Sprintf("/%s of a /%s changed", k, firstNonEmpty(string(t), string(st), "field"))
		}
		if why := check(bd[k], nd[k]); why != "" {
			return fmt.Sprintf("/%s of a /%s: %s", k, firstNonEmpty(string(t), string(st), "field"), why)
		}
	}
	return ""
}

// arrayGrows judges an array (/Annots, /Fields) given directly or by
// reference, before and now: it may only gain signature fields and widgets.
// The same reference on both sides is judged as its own object.
func (c changeCheck) arrayGrows(before, now pdf.Object) string {
	if br, ok := before.(pdf.Ref); ok {
		if nr, ok := now.(pdf.Ref); ok && br == nr {
			return ""
		}
	}
	b, err := c.before.Array(before)
	if err != nil {
		return "unreadable before"
	}
	nv, err := c.now.Resolve(now)
	a, isArray := nv.(pdf.Array)
	if err != nil || (!isArray && b != nil) {
		return "no longer an array"
	}
	if !containsAll(a, b) {
		return "an array lost entries"
	}
	for _, e := range a {
		if !contains(b, e) && !isSigFieldRef(c.now, e) {
			return "an array gained something other than a signature field"
		}
	}
	return ""
}

// formGrows judges the catalog's /AcroForm pointing elsewhere: the new form
// keeps every field and key of the old one, gaining only signature fields.
func (c changeCheck) formGrows(before, now pdf.Object) string {
	if br, ok := before.(pdf.Ref); ok {
		if nr, ok := now.(pdf.Ref); ok && br == nr {
			return ""
		}
	}
	bf, err := c.before.Dict(before)
	if err != nil {
		return "unreadable before"
	}
	if bf == nil {
		return "" // the document gains its first form
	}
	nf, err := c.now.Dict(now)
	if err != nil || nf == nil {
		return "the form is gone"
	}
	for k := range union(bf, nf) {
		switch k {
		case "Fields":
			if why := c.arrayGrows(bf[k], nf[k]); why != "" {
				return "/Fields: " + why
			}
		case "SigFlags", "DR":
		default:
			if !sameObject(bf[k], nf[k]) {
				return "/" + string(k) + " of the form changed"
			}
		}
	}
	return ""
}

// parentIsEmptySig reports whether a widget's parent field was, in the
// signed revision, a signature field not signed yet.
func (c changeCheck) parentIsEmptySig(widget pdf.Dict) bool {
	p, err := c.before.Dict(widget["Parent"])
	return err == nil && p != nil && fieldIsSig(p) && p["V"] == nil
}

// changedKeys lists the keys whose values differ.
func changedKeys(a, b pdf.Dict) []string {
	var out []string
	for k := range union(a, b) {
		if !sameObject(a[k], b[k]) {
			out = append(out, string(k))
		}
	}
	sort.Strings(out)
	return out
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
