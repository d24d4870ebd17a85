package server

// CheckExport reports what New would refuse about e (a bad subject, a
// response threshold without a service), so that a configuration parser
// can report it at the export's position.
func CheckExport(e *Export) error { return checkExport(e) }

// CheckImport reports what New would refuse about im, given every export
// and whether an account name is known.
func CheckImport(im *Import, exports []Export, known func(account string) bool) error {
	return checkImport(im, exports, known)
}

// CheckMapping reports what New would refuse about m.
func CheckMapping(m *Mapping) error {
	_, err := checkMapping(m)
	return err
}
