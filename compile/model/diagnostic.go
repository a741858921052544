package model

import "fmt"

// Severity of a diagnostic.
type Severity string

// Severities. An Error disables the object or route it names; a Warning
// leaves it serving.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Diagnostic is one finding about the input, naming where it is.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	File     string   `json:"file,omitempty"`   // manifest file, if any
	Object   string   `json:"object,omitempty"` // e.g. "IngressRoute apps/web"
	Field    string   `json:"field,omitempty"`  // e.g. "spec.routes[0].match"
	Message  string   `json:"message"`
}

func (d Diagnostic) String() string {
	s := string(d.Severity) + ": "
	if d.File != "" {
		s += d.File + ": "
	}
	if d.Object != "" {
		s += d.Object
		if d.Field != "" {
			s += "#" + d.Field
		}
		s += ": "
	}
	return s + d.Message
}

// Errorf builds an error diagnostic.
func Errorf(object, field, format string, a ...any) Diagnostic {
	return Diagnostic{Severity: Error, Object: object, Field: field, Message: fmt.Sprintf(format, a...)}
}

// Warnf builds a warning diagnostic.
func Warnf(object, field, format string, a ...any) Diagnostic {
	return Diagnostic{Severity: Warning, Object: object, Field: field, Message: fmt.Sprintf(format, a...)}
}
