package relay

import "fmt"

// Limits bound what a caller may send. Zero fields take the defaults.
type Limits struct {
	BodyBytes       int64 // a whole request body (default 1 MiB)
	MessageBytes    int   // initMessage's message (default 256 KiB)
	ValueBytes      int   // saveCaMessageResult's value (default 512 KiB)
	ExtMessageBytes int   // extMessage (default 64 KiB)
	TitleBytes      int   // title (default 1 KiB)
	OtherBytes      int   // any other parameter (default 4 KiB)
	MaxParams       int   // parameters in one request (default 64)
}

// DefaultBodyBytes is the default body limit.
const DefaultBodyBytes = 1 << 20

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.BodyBytes <= 0 {
		l.BodyBytes = DefaultBodyBytes
	}
	def(&l.MessageBytes, 256<<10)
	def(&l.ValueBytes, 512<<10)
	def(&l.ExtMessageBytes, 64<<10)
	def(&l.TitleBytes, 1<<10)
	def(&l.OtherBytes, 4<<10)
	def(&l.MaxParams, 64)
	return l
}

// field gives the byte limit for a parameter name.
func (l Limits) field(name string) int {
	switch name {
	case "message":
		return l.MessageBytes
	case "value":
		return l.ValueBytes
	case "extMessage":
		return l.ExtMessageBytes
	case "title":
		return l.TitleBytes
	}
	return l.OtherBytes
}

// check refuses a value over its field's limit (413); nil passes.
func (l Limits) check(name string, v *string) error {
	if v == nil {
		return nil
	}
	if max := l.field(name); len(*v) > max {
		return fail(CodeTooLarge, "参数 %s 过长（最多 %d 字节）", name, max)
	}
	return nil
}

func (l Limits) String() string {
	return fmt.Sprintf("body %d, message %d, value %d, extMessage %d, title %d, other %d bytes; %d params",
		l.BodyBytes, l.MessageBytes, l.ValueBytes, l.ExtMessageBytes, l.TitleBytes, l.OtherBytes, l.MaxParams)
}
