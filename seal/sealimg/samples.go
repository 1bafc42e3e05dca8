package sealimg

// Sample is one of the committed sample seals of testdata/seals.
type Sample struct {
	File   string // file name in testdata/seals
	Design Design
}

// Samples are the designs of the committed sample seals: a round company
// seal and two oval ones (finance and personal). Tests and the dev PKI
// register them; gen_samples.go writes them out.
func Samples() []Sample {
	return []Sample{
		{"round-company.png", Design{Shape: Round, ArcText: "SCANSIGN DEVELOPMENT CO., LTD.", Star: true, BottomText: "COMPANY SEAL"}},
		{"oval-finance.png", Design{Shape: Oval, ArcText: "SCANSIGN DEVELOPMENT CO.", CenterText: "FINANCE", BottomText: "3401000000001"}},
		{"oval-personal.png", Design{Shape: Oval, Width: 360, Height: 240, CenterText: "ZHANG SAN", BottomText: "PERSONAL SEAL"}},
	}
}
