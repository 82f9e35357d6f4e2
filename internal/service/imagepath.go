package service

import "strings"

// quotedImagePath returns a service image path whose executable part is
// quoted, and whether that changed anything. An unquoted path is split at
// the first ".exe" followed by a space or the end (the way the service
// manager's own lookup ends up resolving it); one without a space in the
// executable part needs no quotes.
func quotedImagePath(image string) (string, bool) {
	image = strings.TrimSpace(image)
	if image == "" || strings.HasPrefix(image, `"`) {
		return image, false
	}
	lower := strings.ToLower(image)
	end := -1
	for i := 0; ; {
		j := strings.Index(lower[i:], ".exe")
		if j < 0 {
			break
		}
		k := i + j + len(".exe")
		if k == len(lower) || lower[k] == ' ' {
			end = k
			break
		}
		i = k
	}
	if end < 0 {
		return image, false
	}
	exe := image[:end]
	if !strings.Contains(exe, " ") {
		return image, false
	}
	return `"` + exe + `"` + image[end:], true
}
