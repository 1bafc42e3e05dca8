package relay

import "fmt"

// City is one entry of the guide's platform table (二维码规则, city 说明):
// the code an app reads from the QR payload to know where the certificate
// is used.
type City struct {
	Code string `yaml:"code" json:"code"`
	Name string `yaml:"name" json:"name"`
}

func (c City) validate() error {
	if c.Code == "" || len(c.Code) > 32 {
		return fmt.Errorf("city code %q must be 1 to 32 characters", c.Code)
	}
	for _, r := range c.Code {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return fmt.Errorf("city code %q: only letters and digits", c.Code)
		}
	}
	if c.Name == "" {
		return fmt.Errorf("city %s has no name", c.Code)
	}
	return nil
}

// DefaultCities is the guide's platform table, in the guide's order.
func DefaultCities() []City {
	return []City{
		{"P3401000001", "合肥市公共资源交易平台"},
		{"P3402000002", "芜湖市公共资源交易平台"},
		{"P3403000003", "蚌埠市公共资源交易平台"},
		{"P3404000004", "淮南市公共资源交易平台"},
		{"P3405000005", "马鞍山市公共资源交易平台"},
		{"P3406000006", "淮北市公共资源交易平台"},
		{"P3407000007", "铜陵市公共资源交易平台"},
		{"P3408000008", "安庆市公共资源交易平台"},
		{"P3410000009", "黄山市公共资源交易平台"},
		{"P3411000010", "滁州市公共资源交易平台"},
		{"P3412000011", "阜阳市公共资源交易平台"},
		{"P3413000012", "宿州市公共资源交易平台"},
		{"P3415000013", "六安市公共资源交易平台"},
		{"P3416000014", "亳州市公共资源交易平台"},
		{"P3417000015", "池州市公共资源交易平台"},
		{"P3418000016", "宣城市公共资源交易平台"},
		{"Z340000000F", "综合评标评审专家库系统"},
		{"ZXSPPT00001", "投资项目在线审批监管平台"},
		{"P3402000018", "长江产权交易所电子交易系统"},
		{"P3401000019", "优质采电子招标投标与采购平台"},
		{"P3401000020", "安徽省产权交易中心电子交易系统"},
	}
}
