package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

func TestParseObjects(t *testing.T) {
	cases := []struct {
		in   string
		want Object
	}{
		{"null", Null{}},
		{"true", Bool(true)},
		{"-42", Integer(-42)},
		{"+.5", Real(0.5)},
		{"4.", Real(4)},
		{"/A#20B", Name("A B")},
		{"/", Name("")},
		{"(a\\(b\\)c\\n\\101\\\r\nd)", String("a(b)c\nAd")},
		{"(nested (paren) ok)", String("nested (paren) ok")},
		{"<48 65 6C6C 6f>", HexString("Hello")},
		{"<123>", HexString("\x12\x30")},
		{"[1 0 R 2 (x)]", Array{Ref{1, 0}, Integer(2), String("x")}},
		{"[1 2]", Array{Integer(1), Integer(2)}},
		{"<< /A 1 /B [ /C ] /N null >>", Dict{"A": Integer(1), "B": Array{Name("C")}}},
		{"% comment\n 7", Integer(7)},
	}
	for _, c := range cases {
		p := parser{b: []byte(c.in), eof: true}
		got, err := p.object(0)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %#v, want %#v", c.in, got, c.want)
		}
	}
	for _, bad := range []string{"(unterminated", "<12", "<< /A >>", "<< 1 2 >>", ")", "[1 2", "<zz>", "@"} {
		p := parser{b: []byte(bad), eof: true}
		if _, err := p.object(0); !errors.Is(err, ErrSyntax) {
			t.Errorf("%q: got %v, want a syntax error", bad, err)
		}
	}
	deep := bytes.Repeat([]byte("["), maxParseDepth+10)
	p := parser{b: deep, eof: true}
	if _, err := p.object(0); !errors.Is(err, ErrSyntax) {
		t.Errorf("deep nesting: %v", err)
	}
}

// TestWriteThenRead round-trips objects through the serializer.
func TestWriteThenRead(t *testing.T) {
	objs := []Object{
		Dict{"Type": Name("X Y"), "S": String("a(b)\\c\r\n"), "H": HexString("\x00\xff"), "R": Real(-0.25), "A": Array{Ref{3, 1}, Bool(false)}},
		TextString("签章 seal"),
	}
	for _, o := range objs {
		var s serializer
		if err := s.write(o); err != nil {
			t.Fatal(err)
		}
		p := parser{b: s.buf.Bytes(), eof: true}
		got, err := p.object(0)
		if err != nil {
			t.Fatalf("%s: %v", s.buf.Bytes(), err)
		}
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("got %#v from %s, want %#v", got, s.buf.Bytes(), o)
		}
	}
	if DecodeText([]byte(TextString("签章 seal").(HexString))) != "签章 seal" {
		t.Fatal("text string round trip")
	}
}

// TestUpdateChain appends two updates to a small file and reads the
// newest version of each object back, for both cross-reference kinds.
func TestUpdateChain(t *testing.T) {
	base := []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n")
	xref := len(base)
	base = append(base, fmt.Sprintf("xref\n0 3\n0000000000 65535 f \n%010d 00000 n \n%010d 00000 n \ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF", 9, 9+len("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"), xref)...)
	doc := base
	for round := 0; round < 2; round++ {
		r, err := Open(bytes.NewReader(doc), int64(len(doc)))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		u := r.NewUpdate()
		added := u.Add(Dict{"Round": Integer(round)})
		u.Set(Ref{Num: 2}, Dict{"Type": Name("Pages"), "Kids": Array{}, "Count": Integer(0), "Seen": Integer(round)})
		needEOL := doc[len(doc)-1] != '\n'
		inc, err := u.Serialize(int64(len(doc)), needEOL, []byte("0123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		doc = append(append([]byte(nil), doc...), inc.Bytes...)
		r, err = Open(bytes.NewReader(doc), int64(len(doc)))
		if err != nil {
			t.Fatalf("round %d reopen: %v\n%s", round, err, inc.Bytes)
		}
		if len(r.Sections) != round+2 || r.Sections[0].Kind != XRefTable {
			t.Fatalf("round %d: %d sections of kind %v", round, len(r.Sections), r.Sections[0].Kind)
		}
		if o, _ := r.Object(added); !reflect.DeepEqual(o, Dict{"Round": Integer(round)}) {
			t.Fatalf("round %d: added object reads %#v", round, o)
		}
		if d, _ := r.Dict(Ref{Num: 2}); d["Seen"] != Integer(round) {
			t.Fatalf("round %d: replaced object reads %#v", round, d)
		}
	}
	if !bytes.HasPrefix(doc, base) {
		t.Fatal("the original bytes changed")
	}
}

func TestOpenRefusesDamage(t *testing.T) {
	for name, in := range map[string]string{
		"no header":       "hello",
		"no startxref":    "%PDF-1.4\n1 0 obj\n<<>>\nendobj\n",
		"offset past end": "%PDF-1.4\nstartxref\n99999\n%%EOF",
		"prev loop":       "%PDF-1.4\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Prev 9 >>\nstartxref\n9\n%%EOF",
		"huge size":       "%PDF-1.4\nxref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 99999999 >>\nstartxref\n9\n%%EOF",
	} {
		if _, err := Open(bytes.NewReader([]byte(in)), int64(len(in))); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}
