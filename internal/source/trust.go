package source

import (
	"sync/atomic"

	"github.com/farmwatch/farmwatch/internal/source/codesign"
	"github.com/farmwatch/farmwatch/internal/source/macho"
)

var codeSigningTrust atomic.Pointer[codesign.Trust]

// SetCodeSigningTrust sets what the live sources check executables' code
// signatures against (the agent sets it from its configuration). nil
// restores the default: the operating system's roots plus the embedded
// Apple root.
func SetCodeSigningTrust(t *codesign.Trust) { codeSigningTrust.Store(t) }

// CodeSigningTrust returns the trust SetCodeSigningTrust set, or the
// default.
func CodeSigningTrust() *codesign.Trust {
	if t := codeSigningTrust.Load(); t != nil {
		return t
	}
	return defaultTrust
}

var defaultTrust = &codesign.Trust{Roots: macho.AppleRoots()}

// markUnverified gives every process and service identity read from a
// snapshot the verdict unverified: a snapshot holds no executables to check,
// and whatever verdict a recording claims is not evidence.
func markUnverified(ps []Process) {
	for i := range ps {
		p := &ps[i]
		if p.Signer != "" || p.TeamID != "" || p.Signature != "" {
			p.Signature, p.SignatureReason = string(codesign.Unverified), "recorded in a snapshot: the executable is not there to check"
		}
	}
}

func markServicesUnverified(ss []Service) {
	for i := range ss {
		s := &ss[i]
		if s.Signer != "" || s.Signature != "" {
			s.Signature, s.SignatureReason = string(codesign.Unverified), "recorded in a snapshot: the executable is not there to check"
		}
	}
}
