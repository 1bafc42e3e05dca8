// Package client is how the relay asks seal companies for a certificate's
// seals (the guide's 三.5 step 8): a Registry of companies from
// configuration, keyed by the signatureCompanyCode the CA app saves, and
// GetSeals, which calls a company's /api/getSeal (二.3.1).
//
// A call is bounded by the company's timeout as a whole, retries included,
// so a hanging company never holds the relay's request longer than that.
// Only failures to connect are retried (nothing reached the company, so a
// retry cannot duplicate anything); a timeout after the request went out,
// and any answer, are final. Answers are size-limited and checked: the
// code, every seal's image (decodable PNG/JPEG within limits) and size, and
// seals outside their APPLYDate/overDate are dropped.
//
// Failures are *Error values whose Kind is one of the Err* sentinels, for
// errors.Is; FailMessage turns any of them into the Chinese failMessage the
// relay answers. seal.SealImgs (or Result.SealImgs) maps the seals to the
// relay's 二.2.8 shape.
package client
