package items_test

import (
	"errors"
	"strings"
	"testing"

	"gitlab.com/acme/billing/internal/items"
)

func TestInputValidate(t *testing.T) {
	tests := []struct {
		name   string
		in     items.Input
		fields []string // fields expected to be reported, in order
	}{
		{"valid", items.Input{Name: "Widget", Price: 1999}, nil},
		{"free", items.Input{Name: "Sample", Price: 0}, nil},
		{"max length in runes", items.Input{Name: strings.Repeat("é", items.MaxNameLength), Price: 1}, nil},
		{"empty name", items.Input{Name: "", Price: 1}, []string{"name"}},
		{"too long", items.Input{Name: strings.Repeat("a", items.MaxNameLength+1), Price: 1}, []string{"name"}},
		{"control character", items.Input{Name: "bad\x00name", Price: 1}, []string{"name"}},
		{"negative price", items.Input{Name: "Widget", Price: -1}, []string{"price"}},
		{"both", items.Input{Name: "", Price: -5}, []string{"name", "price"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var verr *items.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("Validate() = %v, want *ValidationError", err)
			}
			var got []string
			for _, f := range verr.Fields {
				got = append(got, f.Field)
				if f.Detail == "" {
					t.Errorf("field %s has no detail", f.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Errorf("fields = %v, want %v", got, tt.fields)
			}
			for _, f := range tt.fields {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("Error() = %q does not mention %s", err.Error(), f)
				}
			}
		})
	}
}

func TestInputNormalizeTrims(t *testing.T) {
	in := items.Input{Name: "  Widget \n", Price: 1}.Normalize()
	if in.Name != "Widget" {
		t.Errorf("Normalize().Name = %q, want %q", in.Name, "Widget")
	}
	if err := (items.Input{Name: "   ", Price: 1}).Normalize().Validate(); err == nil {
		t.Error("a blank name passed validation after trimming")
	}
}
