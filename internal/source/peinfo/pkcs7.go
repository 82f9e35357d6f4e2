package peinfo

// SignerOfPKCS7 returns the subject (CN, O) of the certificate that made
// the first signature of a DER PKCS#7/CMS SignedData — the same reading
// Authenticode gets, for other containers of CMS signatures (the macOS code
// signature's CMS blob).
func SignerOfPKCS7(der []byte) (*Signer, error) {
	if len(der) > MaxSignatureSize {
		der = der[:MaxSignatureSize]
	}
	return signerOf(der)
}
