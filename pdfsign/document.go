package pdfsign

import (
	"errors"
	"fmt"
	"io"

	"github.com/scansign/scansign/pdfsign/internal/pdf"
)

// document is an opened PDF with the few things sealing needs: the catalog,
// the page tree and the form.
type document struct {
	r          *pdf.Reader
	catalog    pdf.Dict
	catalogRef pdf.Ref
}

func openDocument(ra io.ReaderAt, size int64) (*document, error) {
	if size <= 0 {
		return nil, fail(CodeMalformed, "PDF 文件为空", "the PDF is empty", nil)
	}
	r, err := pdf.Open(ra, size)
	if err != nil {
		return nil, malformed(err)
	}
	if r.Encrypted() {
		return nil, fail(CodeEncrypted, "PDF 文件已加密，不能签章；请先解除加密", "the PDF is encrypted; remove the encryption before sealing", pdf.ErrEncrypted)
	}
	cat, ref, err := r.Catalog()
	if err != nil {
		return nil, malformed(err)
	}
	return &document{r: r, catalog: cat, catalogRef: ref}, nil
}

func malformed(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, pdf.ErrNotPDF) {
		return fail(CodeMalformed, "不是 PDF 文件", "not a PDF file", err)
	}
	if errors.Is(err, pdf.ErrTooManyObjects) {
		return fail(CodeTooLarge, fmt.Sprintf("PDF 对象过多：最多支持 %d 个对象", pdf.DefaultMaxObjectNumbers),
			fmt.Sprintf("the PDF has too many objects (at most %d): %v", pdf.DefaultMaxObjectNumbers, err), err)
	}
	return fail(CodeMalformed, "PDF 文件已损坏或结构无法解析: "+err.Error(), "the PDF is damaged or cannot be parsed: "+err.Error(), err)
}

// pageInfo is one page with its inherited attributes resolved.
type pageInfo struct {
	index    int // 1-based
	ref      pdf.Ref
	dict     pdf.Dict
	media    box
	crop     box
	rotate   int
	userUnit float64
}

type box struct{ llx, lly, urx, ury float64 }

func (b box) width() float64  { return b.urx - b.llx }
func (b box) height() float64 { return b.ury - b.lly }

// maxPageTreeDepth bounds the page tree walk (cycles are caught separately).
const maxPageTreeDepth = 64

// pageCount returns the /Count of the page tree root.
func (d *document) pageCount() (int, error) {
	root, err := d.r.Dict(d.catalog["Pages"])
	if err != nil {
		return 0, malformed(err)
	}
	if root == nil {
		return 0, fail(CodeMalformed, "PDF 缺少页面树", "the PDF has no page tree", nil)
	}
	n, _ := root["Count"].(pdf.Integer)
	return int(n), nil
}

// page finds page n (1-based), descending the tree by /Count.
func (d *document) page(n int) (*pageInfo, error) {
	count, err := d.pageCount()
	if err != nil {
		return nil, err
	}
	if n < 1 || n > count {
		return nil, fail(CodePageOutOfRange, fmt.Sprintf("页码 %d 超出范围（文档共 %d 页）", n, count), fmt.Sprintf("page %d is out of range (the document has %d pages)", n, count), nil)
	}
	inherited := pdf.Dict{}
	node := d.catalog["Pages"]
	remaining := n - 1
	seen := map[pdf.Ref]bool{}
	for depth := 0; depth < maxPageTreeDepth; depth++ {
		ref, _ := node.(pdf.Ref)
		if seen[ref] && ref != (pdf.Ref{}) {
			return nil, fail(CodeMalformed, "PDF 页面树有循环", "the page tree has a cycle", nil)
		}
		seen[ref] = true
		nd, err := d.r.Dict(node)
		if err != nil {
			return nil, malformed(err)
		}
		if nd == nil {
			return nil, fail(CodeMalformed, "PDF 页面树节点不是字典", "a page tree node is not a dictionary", nil)
		}
		for _, k := range []pdf.Name{"MediaBox", "CropBox", "Rotate", "Resources", "UserUnit"} {
			if v, ok := nd[k]; ok {
				inherited[k] = v
			}
		}
		kids, err := d.r.Array(nd["Kids"])
		if err != nil {
			return nil, malformed(err)
		}
		if t, _ := nd.Name("Type"); t == "Page" || (kids == nil && t != "Pages") {
			if remaining != 0 {
				break
			}
			return d.pageGeometry(n, ref, nd, inherited)
		}
		next := pdf.Object(nil)
		for _, kid := range kids {
			kd, err := d.r.Dict(kid)
			if err != nil {
				return nil, malformed(err)
			}
			if kd == nil {
				continue
			}
			c := 1
			if t, _ := kd.Name("Type"); t == "Pages" || (t != "Page" && kd["Kids"] != nil) {
				cnt, _ := kd["Count"].(pdf.Integer)
				c = int(cnt)
			}
			if remaining < c {
				next = kid
				break
			}
			remaining -= c
		}
		if next == nil {
			break
		}
		node = next
	}
	return nil, fail(CodeMalformed, fmt.Sprintf("PDF 页面树与页数不符，找不到第 %d 页", n), fmt.Sprintf("the page tree does not match its page count; page %d not found", n), nil)
}

func (d *document) pageGeometry(n int, ref pdf.Ref, dict pdf.Dict, inh pdf.Dict) (*pageInfo, error) {
	p := &pageInfo{index: n, ref: ref, dict: dict, userUnit: 1}
	media, ok, err := d.box(inh["MediaBox"])
	if err != nil {
		return nil, malformed(err)
	}
	if !ok {
		media = box{0, 0, 612, 792} // US Letter is what readers assume
	}
	p.media = media
	p.crop = media
	if crop, ok, err := d.box(inh["CropBox"]); err != nil {
		return nil, malformed(err)
	} else if ok {
		// The crop box is clipped to the media box.
		p.crop = box{max(crop.llx, media.llx), max(crop.lly, media.lly), min(crop.urx, media.urx), min(crop.ury, media.ury)}
		if p.crop.width() <= 0 || p.crop.height() <= 0 {
			p.crop = media
		}
	}
	if ro, err := d.r.Resolve(inh["Rotate"]); err == nil {
		if v, ok := ro.(pdf.Integer); ok {
			p.rotate = ((int(v)%360)+360)%360 - ((int(v)%360)+360)%90
		}
	}
	if uo, err := d.r.Resolve(inh["UserUnit"]); err == nil {
		if v, ok := pdf.Number(uo); ok && v > 0 {
			p.userUnit = v
		}
	}
	if p.media.width() <= 0 || p.media.height() <= 0 {
		return nil, fail(CodeMalformed, "页面尺寸无效", "the page has an empty media box", nil)
	}
	return p, nil
}

func (d *document) box(o pdf.Object) (box, bool, error) {
	if o == nil {
		return box{}, false, nil
	}
	a, err := d.r.Array(o)
	if err != nil {
		return box{}, false, err
	}
	if len(a) != 4 {
		return box{}, false, nil
	}
	var v [4]float64
	for i, e := range a {
		e, err := d.r.Resolve(e)
		if err != nil {
			return box{}, false, err
		}
		f, ok := pdf.Number(e)
		if !ok {
			return box{}, false, nil
		}
		v[i] = f
	}
	return box{min(v[0], v[2]), min(v[1], v[3]), max(v[0], v[2]), max(v[1], v[3])}, true, nil
}

// pageRefs lists every page's reference in order (for reporting which page
// a signature is on).
func (d *document) pageRefs() ([]pdf.Ref, error) {
	var out []pdf.Ref
	seen := map[pdf.Ref]bool{}
	var walk func(o pdf.Object, depth int) error
	walk = func(o pdf.Object, depth int) error {
		if depth > maxPageTreeDepth {
			return fmt.Errorf("page tree deeper than %d", maxPageTreeDepth)
		}
		ref, isRef := o.(pdf.Ref)
		if isRef {
			if seen[ref] {
				return fmt.Errorf("page tree has a cycle")
			}
			seen[ref] = true
		}
		nd, err := d.r.Dict(o)
		if err != nil || nd == nil {
			return err
		}
		kids, err := d.r.Array(nd["Kids"])
		if err != nil {
			return err
		}
		if t, _ := nd.Name("Type"); t == "Page" || kids == nil {
			out = append(out, ref)
			return nil
		}
		for _, k := range kids {
			if err := walk(k, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(d.catalog["Pages"], 0); err != nil {
		return nil, malformed(err)
	}
	return out, nil
}

// fieldNames returns the fully qualified names of all form fields.
func (d *document) fieldNames() (map[string]bool, error) {
	names := map[string]bool{}
	form, err := d.r.Dict(d.catalog["AcroForm"])
	if err != nil || form == nil {
		return names, err
	}
	fields, err := d.r.Array(form["Fields"])
	if err != nil {
		return names, err
	}
	err = d.walkFields(fields, "", 0, map[pdf.Ref]bool{}, func(name string, _ pdf.Ref, _ pdf.Dict) {
		names[name] = true
	})
	return names, err
}

// walkFields visits every terminal field with its full name.
func (d *document) walkFields(fields pdf.Array, prefix string, depth int, seen map[pdf.Ref]bool, visit func(name string, ref pdf.Ref, f pdf.Dict)) error {
	if depth > 32 {
		return nil
	}
	for _, fo := range fields {
		ref, _ := fo.(pdf.Ref)
		if ref != (pdf.Ref{}) {
			if seen[ref] {
				continue
			}
			seen[ref] = true
		}
		f, err := d.r.Dict(fo)
		if err != nil {
			return err
		}
		if f == nil {
			continue
		}
		name := prefix
		if t, ok := pdf.StringBytes(f["T"]); ok {
			if name != "" {
				name += "."
			}
			name += pdf.DecodeText(t)
		}
		kids, err := d.r.Array(f["Kids"])
		if err != nil {
			return err
		}
		// Kids that have /T are fields; kids without are widgets.
		hasFieldKids := false
		for _, k := range kids {
			kd, err := d.r.Dict(k)
			if err == nil && kd != nil && kd["T"] != nil {
				hasFieldKids = true
				break
			}
		}
		if hasFieldKids {
			if err := d.walkFields(kids, name, depth+1, seen, visit); err != nil {
				return err
			}
			continue
		}
		visit(name, ref, f)
	}
	return nil
}
