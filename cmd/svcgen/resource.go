package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/svcgen/svcgen/generator"
)

// resourceHelp says how fields are written, for add and set.
var resourceHelp = `A field is name:type[:constraint...]; the types are ` +
	strings.Join(generator.FieldTypes, ", ") + ` (decimal: integer minor units), the constraints
required, unique, min=N, max=N, maxlen=N and default=V. --from FILE reads the same as YAML:
name: and fields: (each a field string, or a mapping of name, type, values, required, unique,
min, max, maxlen, default). Resources need database ` + strings.Join(generator.ResourceDatabases, " or ") + `.`

// resourceFlags are the --field and --from flags of add and set.
type resourceFlags struct {
	fields []string
	from   string
}

func (f *resourceFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.fields, "field", nil, "with resource: a field, name:type[:constraints] (repeat for each field)")
	cmd.Flags().StringVar(&f.from, "from", "", "with resource: read the resource's name and fields from a YAML file")
}

func (f *resourceFlags) given() bool { return len(f.fields) > 0 || f.from != "" }

// resource reads the resource that `add|set resource [NAME]` names: NAME may be left out
// with --from when the file names it.
func (f *resourceFlags) resource(args []string, adding bool) (generator.Resource, error) {
	verb := "set"
	if adding {
		verb = "add"
	}
	if len(args) > 2 {
		return generator.Resource{}, fmt.Errorf("%s resource takes one name, e.g. svcgen %s resource order --field total:int64", verb, verb)
	}
	var r generator.Resource
	switch {
	case f.from != "" && len(f.fields) > 0:
		return r, errors.New("give the fields with --field or with --from FILE, not both")
	case f.from != "":
		var err error
		if r, err = generator.ReadResourceFile(f.from); err != nil {
			return r, err
		}
	case len(f.fields) > 0:
		fields, err := generator.ParseFields(f.fields)
		if err != nil {
			return r, err
		}
		r.Fields = fields
	default:
		return r, fmt.Errorf("give the resource's fields: svcgen %s resource NAME --field name:type[:constraints]... or --from FILE", verb)
	}
	if len(args) == 2 {
		if r.Name != "" && r.Name != args[1] {
			return r, fmt.Errorf("--from %s names resource %s, the command %s", f.from, r.Name, args[1])
		}
		r.Name = args[1]
	}
	if r.Name == "" {
		return r, fmt.Errorf("name the resource: svcgen %s resource NAME", verb)
	}
	return r, nil
}
