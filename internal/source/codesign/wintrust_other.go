//go:build !windows

package codesign

// OSVerifyPE returns ours unchanged: only Windows has an OS verifier for
// Authenticode (WinVerifyTrust).
func OSVerifyPE(path string, ours Verdict, trust *Trust) Verdict { return ours }
