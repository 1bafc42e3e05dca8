// Package seal is the seal company side of the guide: the seals registered
// for each certificate, the wire shapes of the seal company service
// (二.3.1 /api/getSeal) and of the relay's seal list (二.2.8 /getSealImg),
// and the Store interface the seal company service reads from.
//
// Subpackages do one job each:
//   - seal/store: the Store backends (embedded bbolt file, PostgreSQL);
//   - seal/service: the /api/getSeal HTTP handler a seal company runs;
//   - seal/client: the registry of seal companies and the client the relay
//     uses to ask one of them for a certificate's seals;
//   - seal/sealimg: checking seal images and drawing the dev/sample seals.
//
// # /api/getSeal answer codes
//
// The guide fixes only "0" (正常). The others, chosen to echo HTTP so they
// read at a glance, are:
//
//	"0"   正常: userInfo and signInfos follow
//	"400" 参数错误: caSerialId/accountName/password missing, serial not hexadecimal, unreadable body
//	"401" 授权账号或密码错误
//	"404" 该证书没有有效的印章: unknown serial, or all its seals outside their validity
//	"413" 请求数据过大
//	"429" 认证失败次数过多，请稍后再试
//	"500" 签章服务内部错误
//
// Every answer is HTTP 200 with application/json;charset=utf-8, as the
// relay's endpoints answer business outcomes.
package seal
