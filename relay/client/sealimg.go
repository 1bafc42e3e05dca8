package client

import (
	"context"
	"net/url"
)

// SealImg is one seal in /getSealImg's signInfos (guide 二.2.8).
type SealImg struct {
	SignName    string `json:"signName"`
	SignWidth   string `json:"signWidth"`  // cm
	SignHeight  string `json:"signHeight"` // cm
	Img         string `json:"img"`        // base64 of the PNG/JPEG file
	Description string `json:"description"`
}

// GetSealImg calls /getSealImg (the seal control, 三.5 step 7): the seals
// of the certificate the app named, from its seal company. The operation
// moves to status 5.
func (c *Client) GetSealImg(ctx context.Context, token, guid string) ([]SealImg, error) {
	var out struct {
		SignInfos []SealImg `json:"signInfos"`
	}
	err := c.post(ctx, "/getSealImg", url.Values{"guid": {guid}, "token": {token}}, &out)
	return out.SignInfos, err
}
