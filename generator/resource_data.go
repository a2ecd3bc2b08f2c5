package generator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Per-resource templates live under _resource/ in any component's folder, so each component
// renders its own layer of every resource (core: the domain package and the HTTP handlers;
// a database: its repository and migrations). In their paths __pkg__ becomes the resource's
// package (its plural), and a file whose path holds __migration__ is rendered once per
// recorded migration, named NNNN_<create|alter>_<plural>.
const (
	resourceDir    = "_resource/"
	pkgToken       = "__pkg__"
	migrationToken = "__migration__"
)

// ResourceData is the dot of a per-resource template: the service's Data and the resource.
type ResourceData struct {
	Data
	Removed bool   // removed (svcgen remove resource): only its migrations are rendered
	Name    string // order
	Pkg     string // orders: the Go package, the table and the path segment
	Type    string // Order
	Plural  string // Orders
	Fields  []FieldData
	// Has says which field types (and "maxlen", "indexed") the fields use, for imports.
	Has map[string]bool
	// Migrations are the resource's migrations in order; Migration is the one a migration
	// template renders.
	Migrations []MigrationData
	Migration  MigrationData
}

// FieldData is one field as templates use it.
type FieldData struct {
	Name     string   // snake_case: the JSON key and the column
	Go       string   // CamelCase: the struct field
	Type     string   // string, text, int, int64, bool, decimal, time, uuid, enum
	GoType   string   // string, int32, int64, bool, time.Time
	Enum     []string // an enum's values
	Required bool
	Unique   bool
	Indexed  bool // unique or enum: the list endpoint filters on it
	HasMin   bool
	Min      int64
	HasMax   bool
	Max      int64
	MaxLen   int
	// HasDefault and Default: the default value as written (default=V); GoDefault is it as
	// a Go literal, GoZero the type's zero value.
	HasDefault bool
	Default    string
	GoDefault  string
	GoZero     string
}

// MigrationData is one recorded migration: Create for the first (CREATE TABLE with Fields),
// else the fields Added and Dropped since the previous one (a changed field is dropped and
// added again).
type MigrationData struct {
	Version int
	File    string // 0005_create_orders
	Create  bool
	Fields  []FieldData
	Added   []FieldData
	Dropped []FieldData
}

// resourceData returns the data of every resource, removed ones too; each one's Data.Resources
// lists the resources that are not removed.
func resourceData(base Data, rs []Resource) []ResourceData {
	var out []ResourceData
	for _, r := range rs {
		pkg := Plural(r.Name)
		d := ResourceData{Removed: r.Removed, Name: r.Name, Pkg: pkg, Type: camel(r.Name), Plural: camel(pkg), Fields: fieldData(r.Fields), Has: map[string]bool{}}
		for _, t := range []string{"string", "text", "int", "int64", "bool", "decimal", "time", "uuid", "enum", "maxlen", "indexed", "intfilter"} {
			d.Has[t] = false
		}
		for _, f := range d.Fields {
			d.Has[f.Type] = true
			d.Has["maxlen"] = d.Has["maxlen"] || f.MaxLen > 0
			d.Has["indexed"] = d.Has["indexed"] || f.Indexed
			d.Has["intfilter"] = d.Has["intfilter"] || f.Indexed && strings.HasPrefix(f.GoType, "int")
		}
		var prev []Field
		for i, m := range r.Migrations {
			md := MigrationData{Version: m.Version, Create: i == 0, Fields: fieldData(m.Fields)}
			verb := "alter"
			if md.Create {
				verb = "create"
			}
			md.File = fmt.Sprintf("%04d_%s_%s", m.Version, verb, pkg)
			if !md.Create {
				for _, f := range m.Fields {
					j := slices.IndexFunc(prev, func(p Field) bool { return p.Name == f.Name })
					if j < 0 || prev[j].String() != f.String() {
						md.Added = append(md.Added, fieldData([]Field{f})...)
					}
				}
				for _, p := range prev {
					j := slices.IndexFunc(m.Fields, func(f Field) bool { return f.Name == p.Name })
					if j < 0 || m.Fields[j].String() != p.String() {
						md.Dropped = append(md.Dropped, fieldData([]Field{p})...)
					}
				}
			}
			prev = m.Fields
			d.Migrations = append(d.Migrations, md)
		}
		out = append(out, d)
	}
	var live []ResourceData
	for i := range out {
		out[i].Data = base
		if !out[i].Removed {
			live = append(live, out[i])
		}
	}
	for i := range out {
		out[i].Data.Resources = live
	}
	for i := range live {
		live[i].Data.Resources = live
	}
	return out
}

func fieldData(fs []Field) []FieldData {
	var out []FieldData
	for _, f := range fs {
		d := FieldData{
			// A unique field is required: two records left without it would collide.
			Name: f.Name, Go: camel(f.Name), Type: f.Type, Enum: f.Enum, Required: f.Required || f.Unique, Unique: f.Unique,
			Indexed: f.Unique || f.Type == "enum", MaxLen: f.MaxLen,
		}
		if f.Min != nil {
			d.HasMin, d.Min = true, *f.Min
		}
		if f.Max != nil {
			d.HasMax, d.Max = true, *f.Max
		}
		switch f.Type {
		case "int":
			d.GoType, d.GoZero = "int32", "0"
		case "int64", "decimal":
			d.GoType, d.GoZero = "int64", "0"
		case "bool":
			d.GoType, d.GoZero = "bool", "false"
		case "time":
			d.GoType, d.GoZero = "time.Time", "time.Time{}"
		case "uuid":
			d.GoType, d.GoZero = "string", `"00000000-0000-0000-0000-000000000000"`
		default:
			d.GoType, d.GoZero = "string", `""`
		}
		d.GoDefault = d.GoZero
		if f.Default == nil && f.Type == "enum" {
			// An optional enum left out takes its first value, so the column's CHECK holds.
			first := f.Enum[0]
			f.Default = &first
		}
		if f.Default != nil {
			d.HasDefault, d.Default = true, *f.Default
			d.GoDefault = *f.Default
			if d.GoType == "string" {
				d.GoDefault = strconv.Quote(*f.Default)
			}
		}
		out = append(out, d)
	}
	return out
}

// camel turns snake_case into CamelCase, with the initialisms Go writes in capitals.
func camel(s string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(s, "_") {
		switch part {
		case "id", "url", "uuid", "api", "http", "json", "sql", "ip":
			b.WriteString(strings.ToUpper(part))
		default:
			if part != "" {
				b.WriteString(strings.ToUpper(part[:1]) + part[1:])
			}
		}
	}
	return b.String()
}
