package generator

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"gopkg.in/yaml.v3"
)

// Resources are domain resources a service's owners add with `svcgen add resource NAME
// --field ...`: each is rendered through every layer the stack has (domain package, HTTP
// handlers, repository, migrations, OpenAPI) from the files under `_resource/` of the enabled
// components. A resource is an answer like any other: the spec records it (and the history of
// its migrations), so regen, diff, set, remove and answer files work for it as for components.

// FieldTypes are the types a resource field may have; enum is written enum(a|b|c).
var FieldTypes = []string{"string", "text", "int", "int64", "bool", "decimal", "time", "uuid", "enum(a|b|...)"}

// fieldConstraints are the constraints a field may carry after its type.
var fieldConstraints = []string{"required", "unique", "min=N", "max=N", "maxlen=N", "default=V"}

// ResourceDatabases are the databases resources have a repository for.
var ResourceDatabases = []string{"postgres"}

// Field is one field of a resource.
type Field struct {
	Name     string
	Type     string   // one of FieldTypes without enum's values: enum
	Enum     []string // the values of an enum
	Required bool
	Unique   bool
	Min, Max *int64
	MaxLen   int
	Default  *string
}

// String writes the field in the --field form, which is also how the spec records it.
func (f Field) String() string {
	parts := []string{f.Name, f.Type}
	if f.Type == "enum" && len(f.Enum) > 0 {
		parts[1] = "enum(" + strings.Join(f.Enum, "|") + ")"
	}
	if f.Required {
		parts = append(parts, "required")
	}
	if f.Unique {
		parts = append(parts, "unique")
	}
	if f.Min != nil {
		parts = append(parts, "min="+strconv.FormatInt(*f.Min, 10))
	}
	if f.Max != nil {
		parts = append(parts, "max="+strconv.FormatInt(*f.Max, 10))
	}
	if f.MaxLen != 0 { // never negative once parsed; a mapping's bad value goes through to ParseField's check
		parts = append(parts, "maxlen="+strconv.Itoa(f.MaxLen))
	}
	if f.Default != nil {
		parts = append(parts, "default="+*f.Default)
	}
	return strings.Join(parts, ":")
}

// Migration is one schema migration of a resource, recorded with the fields the resource had
// when it was added: every later render writes it from them, so an applied migration is never
// rewritten when the fields change again.
type Migration struct {
	Version int     `yaml:"version"`
	Fields  []Field `yaml:"fields"`
}

// Resource is one resource of the spec.
type Resource struct {
	Name   string  `yaml:"name"`
	Fields []Field `yaml:"fields"`
	// Removed marks a resource taken out with `svcgen remove resource`: its files are gone,
	// but its migrations stay (a database may have applied them, and their numbers must
	// never be given to another migration), and so does its table.
	Removed    bool        `yaml:"removed,omitempty"`
	Migrations []Migration `yaml:"migrations,omitempty"`
}

// MarshalYAML writes a field as its --field string.
func (f Field) MarshalYAML() (any, error) { return f.String(), nil }

// UnmarshalYAML reads a field from its --field string or from a mapping (name, type,
// required, unique, min, max, maxlen, default, values).
func (f *Field) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		parsed, err := ParseField(n.Value)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		*f = parsed
		return nil
	}
	var m struct {
		Name     string   `yaml:"name"`
		Type     string   `yaml:"type"`
		Values   []string `yaml:"values"`
		Required bool     `yaml:"required"`
		Unique   bool     `yaml:"unique"`
		Min      *int64   `yaml:"min"`
		Max      *int64   `yaml:"max"`
		MaxLen   int      `yaml:"maxlen"`
		Default  *string  `yaml:"default"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	// The mapping is checked as the --field form it stands for, so both forms take the same
	// checks and the same errors.
	form := Field{Name: m.Name, Type: m.Type, Required: m.Required, Unique: m.Unique, Min: m.Min, Max: m.Max, MaxLen: m.MaxLen, Default: m.Default}
	if m.Type == "enum" {
		form.Enum = m.Values
	}
	parsed, err := ParseField(form.String())
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*f = parsed
	return nil
}

var (
	resourceNameRE = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	fieldNameRE    = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	enumValueRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	uuidRE         = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// ParseField reads one --field: name:type[:constraint...] (constraints may also be separated by
// commas), e.g. total:int64:min=0 or status:enum(new|paid|shipped):required. Errors name the
// field and the allowed values.
func ParseField(s string) (Field, error) {
	name, rest, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || rest == "" {
		return Field{}, fmt.Errorf("field %q: give name:type[:constraints], with a type of %s", s, strings.Join(FieldTypes, ", "))
	}
	f := Field{Name: name}
	if err := checkFieldName(name); err != nil {
		return Field{}, err
	}
	typ, cons := rest, ""
	if strings.HasPrefix(rest, "enum(") {
		end := strings.Index(rest, ")")
		if end < 0 {
			return Field{}, fmt.Errorf("field %s: enum values must be closed: enum(a|b|c)", name)
		}
		typ, cons = rest[:end+1], strings.TrimPrefix(rest[end+1:], ":")
	} else if t, c, ok := strings.Cut(rest, ":"); ok {
		typ, cons = t, c
	}
	if values, ok := strings.CutPrefix(typ, "enum("); ok {
		f.Type = "enum"
		for v := range strings.SplitSeq(strings.TrimSuffix(values, ")"), "|") {
			if !enumValueRE.MatchString(v) {
				return Field{}, fmt.Errorf("field %s: enum value %q is not valid: use lowercase letters, digits, _ and -", name, v)
			}
			if slices.Contains(f.Enum, v) {
				return Field{}, fmt.Errorf("field %s: enum value %q is given twice", name, v)
			}
			f.Enum = append(f.Enum, v)
		}
	} else {
		if !slices.Contains(FieldTypes, typ) || typ == FieldTypes[len(FieldTypes)-1] {
			return Field{}, fmt.Errorf("field %s: unknown type %q: the types are %s", name, typ, strings.Join(FieldTypes, ", "))
		}
		f.Type = typ
	}
	for c := range strings.FieldsFuncSeq(cons, func(r rune) bool { return r == ':' || r == ',' }) {
		if err := f.constrain(c); err != nil {
			return Field{}, err
		}
	}
	if err := f.check(); err != nil {
		return Field{}, err
	}
	return f, nil
}

func checkFieldName(name string) error {
	switch {
	case !fieldNameRE.MatchString(name):
		return fmt.Errorf("field %q: a field name is lowercase letters, digits and single underscores, starting with a letter (e.g. customer_id)", name)
	case slices.Contains([]string{"id", "version", "created_at", "updated_at"}, name):
		return fmt.Errorf("field %s: every resource has id, version, created_at and updated_at already: choose another name", name)
	case isGoKeyword(name) || sqlReserved[name]:
		return fmt.Errorf("field %s: %q is a reserved word of Go or SQL: choose another name", name, name)
	}
	return nil
}

func (f *Field) constrain(c string) error {
	key, value, hasValue := strings.Cut(c, "=")
	numeric := slices.Contains([]string{"int", "int64", "decimal"}, f.Type)
	bad := func(why string) error {
		return fmt.Errorf("field %s: constraint %q %s (constraints: %s)", f.Name, c, why, strings.Join(fieldConstraints, ", "))
	}
	switch key {
	case "required", "unique":
		if hasValue {
			return bad("takes no value")
		}
		if key == "unique" && (f.Type == "bool" || f.Type == "text") {
			return bad("does not apply to a " + f.Type + " field")
		}
		f.Required = f.Required || key == "required"
		f.Unique = f.Unique || key == "unique"
	case "min", "max":
		if !numeric {
			return bad("applies to int, int64 and decimal fields only")
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return bad("needs an integer")
		}
		if key == "min" {
			f.Min = &n
		} else {
			f.Max = &n
		}
	case "maxlen":
		if f.Type != "string" && f.Type != "text" {
			return bad("applies to string and text fields only")
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return bad("needs a positive integer")
		}
		f.MaxLen = n
	case "default":
		if !hasValue {
			return bad("needs a value: default=V")
		}
		f.Default = &value
	default:
		return bad("is not a constraint")
	}
	return nil
}

// check validates the constraints together: the range, and the default against the type.
func (f Field) check() error {
	if f.Min != nil && f.Max != nil && *f.Min > *f.Max {
		return fmt.Errorf("field %s: min=%d is greater than max=%d", f.Name, *f.Min, *f.Max)
	}
	if f.Type == "int" {
		for _, b := range []*int64{f.Min, f.Max} {
			if b != nil && (*b < -1<<31 || *b > 1<<31-1) {
				return fmt.Errorf("field %s: %d is out of range of an int field (32 bits); use int64", f.Name, *b)
			}
		}
	}
	if f.Default == nil {
		return nil
	}
	d := *f.Default
	bad := func(want string) error {
		return fmt.Errorf("field %s: default=%s is not %s", f.Name, d, want)
	}
	switch f.Type {
	case "int", "int64", "decimal":
		n, err := strconv.ParseInt(d, 10, 64)
		if err != nil {
			return bad("an integer")
		}
		if f.Min != nil && n < *f.Min || f.Max != nil && n > *f.Max {
			return bad("between min and max")
		}
	case "bool":
		if d != "true" && d != "false" {
			return bad("true or false")
		}
	case "enum":
		if !slices.Contains(f.Enum, d) {
			return bad("one of " + strings.Join(f.Enum, ", "))
		}
	case "uuid":
		if !uuidRE.MatchString(d) {
			return bad("a lowercase UUID")
		}
	case "time":
		return fmt.Errorf("field %s: a time field takes no default", f.Name)
	case "string", "text":
		if f.MaxLen > 0 && len([]rune(d)) > f.MaxLen {
			return bad("within maxlen")
		}
		if strings.ContainsFunc(d, unicode.IsControl) || strings.ContainsAny(d, `'"\`) {
			return bad("free of quotes, backslashes and control characters")
		}
	}
	return nil
}

// Plural is the resource's collection name: its package, its table and its path /v1/<plural>.
func Plural(name string) string {
	switch {
	case strings.HasSuffix(name, "s"), strings.HasSuffix(name, "x"), strings.HasSuffix(name, "z"),
		strings.HasSuffix(name, "ch"), strings.HasSuffix(name, "sh"):
		return name + "es"
	case strings.HasSuffix(name, "y") && len(name) > 1 && !strings.ContainsRune("aeiou", rune(name[len(name)-2])):
		return name[:len(name)-1] + "ies"
	}
	return name + "s"
}

// ValidateResource checks a resource's name and fields against the spec's other resources:
// the errors name the field and what is allowed.
func ValidateResource(r Resource, others []Resource) error {
	if err := checkResourceName(r.Name); err != nil {
		return err
	}
	for _, o := range others {
		if o.Name == r.Name || Plural(o.Name) == Plural(r.Name) {
			return fmt.Errorf("resource %s: the service has a resource %s already (svcgen set resource %s --field ... changes it)", r.Name, o.Name, o.Name)
		}
	}
	if len(r.Fields) == 0 {
		return fmt.Errorf("resource %s: give at least one field: --field name:type[:constraints] (types: %s)", r.Name, strings.Join(FieldTypes, ", "))
	}
	seen := map[string]bool{}
	for _, f := range r.Fields {
		if seen[f.Name] {
			return fmt.Errorf("resource %s: field %s is given twice", r.Name, f.Name)
		}
		seen[f.Name] = true
		if _, err := ParseField(f.String()); err != nil {
			return fmt.Errorf("resource %s: %w", r.Name, err)
		}
	}
	return nil
}

// reservedResources are names the service uses itself.
var reservedResources = []string{"item", "health", "outbox", "idempotency", "schema", "migration", "server", "config", "metric", "cache", "postgres", "app", "problem", "logging", "breaker", "migrate", "requestid", "tracing", "kafka", "resource"}

func checkResourceName(name string) error {
	plural := Plural(name)
	switch {
	case !resourceNameRE.MatchString(name):
		return fmt.Errorf("resource %q: a resource name is one lowercase word of letters and digits, starting with a letter, in the singular (e.g. order)", name)
	case len(name) > 40:
		return fmt.Errorf("resource %q: at most 40 characters", name)
	case isGoKeyword(name) || isGoKeyword(plural):
		return fmt.Errorf("resource %q: %s is a Go keyword or predeclared name: choose another name", name, name)
	case sqlReserved[plural]:
		return fmt.Errorf("resource %q: its table %s is an SQL reserved word: choose another name", name, plural)
	case slices.Contains(reservedResources, name) || slices.Contains(reservedResources, plural):
		return fmt.Errorf("resource %q: the service uses that name itself (reserved: %s)", name, strings.Join(reservedResources, ", "))
	}
	return nil
}

func isGoKeyword(s string) bool {
	switch s {
	case "break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough", "for", "func",
		"go", "goto", "if", "import", "interface", "map", "package", "range", "return", "select", "struct",
		"switch", "type", "var",
		// predeclared names a generated package or variable must not shadow
		"bool", "byte", "error", "string", "int", "true", "false", "nil", "len", "new", "make", "any", "time", "http", "context", "errors", "fmt":
		return true
	}
	return false
}

// sqlReserved are PostgreSQL's reserved key words (and SQL:2016's most common ones): a table
// or column named so would need quoting everywhere.
var sqlReserved = func() map[string]bool {
	m := map[string]bool{}
	for w := range strings.FieldsSeq(`all analyse analyze and any array as asc asymmetric authorization binary both case
	cast check collate collation column concurrently constraint create cross current_catalog current_date
	current_role current_schema current_time current_timestamp current_user default deferrable desc
	distinct do else end except false fetch for foreign freeze from full grant group having ilike in
	initially inner intersect into is isnull join lateral leading left like limit localtime
	localtimestamp natural not notnull null offset on only or order outer overlaps placing primary
	references returning right select session_user similar some symmetric system_user table tablesample
	then to trailing true union unique user using variadic verbose when where window with
	values value key keys index row rows begin commit rollback delete insert update`) {
		m[w] = true
	}
	return m
}()

// ReadResourceFile reads `--from FILE`: a YAML mapping with name and fields (each a --field
// string or a mapping of name, type, values, required, unique, min, max, maxlen, default).
func ReadResourceFile(path string) (Resource, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Resource{}, fmt.Errorf("--from: %w", err)
	}
	var r struct {
		Name   string  `yaml:"name"`
		Fields []Field `yaml:"fields"`
	}
	if err := strictDecode(raw, &r); err != nil {
		return Resource{}, fmt.Errorf("%s: %w", path, err)
	}
	return Resource{Name: r.Name, Fields: r.Fields}, nil
}

// ParseFields reads --field flags.
func ParseFields(flags []string) ([]Field, error) {
	var out []Field
	for _, s := range flags {
		f, err := ParseField(s)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// checkResourceStack refuses resources on a stack that has no repository for them.
func checkResourceStack(c *Catalog, s Spec) error {
	db := s.Get("database")
	if db == "" {
		db = None
	}
	if !slices.Contains(ResourceDatabases, db) {
		return fmt.Errorf("resources need a database with a resource repository: supported databases are %s, and this service's database is %s (svcgen set database postgres)", strings.Join(ResourceDatabases, ", "), db)
	}
	return nil
}

// AddResource adds r to the spec with its first migration, numbered after every migration the
// service has.
func AddResource(c *Catalog, s Spec, r Resource) (Spec, error) {
	if err := checkResourceStack(c, s); err != nil {
		return s, err
	}
	if i := slices.IndexFunc(s.Resources, func(o Resource) bool { return o.Name == r.Name && o.Removed }); i >= 0 {
		// Added again: its table is still there, so a new migration alters it to the new fields.
		s.Resources = slices.Clone(s.Resources)
		s.Resources[i].Removed = false
		s, _, err := SetResource(c, s, r.Name, r.Fields)
		return s, err
	}
	if err := ValidateResource(r, s.Resources); err != nil {
		return s, err
	}
	next, err := nextMigration(c, s)
	if err != nil {
		return s, err
	}
	r.Migrations = []Migration{{Version: next, Fields: slices.Clone(r.Fields)}}
	s.Resources = append(slices.Clone(s.Resources), r)
	return s, nil
}

// SetResource replaces the fields of resource name; when they differ, a new migration (the next
// number) records the new fields, and the earlier migrations stay as they were.
func SetResource(c *Catalog, s Spec, name string, fields []Field) (Spec, []string, error) {
	i := slices.IndexFunc(s.Resources, func(r Resource) bool { return r.Name == name && !r.Removed })
	if i < 0 {
		return s, nil, fmt.Errorf("resource %s is not part of the service (resources: %s); add it with svcgen add resource %s --field ...", name, strings.Join(resourceNames(s), ", "), name)
	}
	r := s.Resources[i]
	others := slices.Delete(slices.Clone(s.Resources), i, i+1)
	nr := Resource{Name: name, Fields: fields, Migrations: slices.Clone(r.Migrations)}
	if err := ValidateResource(nr, others); err != nil {
		return s, nil, err
	}
	if fieldsEqual(r.Fields, fields) {
		return s, []string{fmt.Sprintf("resource %s already has these fields", name)}, nil
	}
	next, err := nextMigration(c, s)
	if err != nil {
		return s, nil, err
	}
	nr.Migrations = append(nr.Migrations, Migration{Version: next, Fields: slices.Clone(fields)})
	s.Resources = slices.Clone(s.Resources)
	s.Resources[i] = nr
	return s, nil, nil
}

// RemoveResource marks resource name removed. Its files go (kept when edited) except its
// migrations, and its table stays in the database until its owners drop it: svcgen never
// writes a migration that destroys data on its own, nor takes back one a database may have
// applied.
func RemoveResource(s Spec, name string) (Spec, []string, error) {
	i := slices.IndexFunc(s.Resources, func(r Resource) bool { return r.Name == name && !r.Removed })
	if i < 0 {
		return s, []string{fmt.Sprintf("resource %s is not part of the service", name)}, nil
	}
	s.Resources = slices.Clone(s.Resources)
	s.Resources[i].Removed = true
	plural := Plural(name)
	return s, []string{fmt.Sprintf("resource %s: its migrations stay, and so does the table %s in the database (drop it with a migration of your own when its data can go)", name, plural)}, nil
}

func resourceNames(s Spec) []string {
	var out []string
	for _, r := range s.Resources {
		if !r.Removed {
			out = append(out, r.Name)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

func fieldsEqual(a, b []Field) bool {
	return slices.EqualFunc(a, b, func(x, y Field) bool { return x.String() == y.String() })
}

// migrationFileRE matches a migration file of any database: <dir>/migrations/NNNN_*.sql.
var migrationFileRE = regexp.MustCompile(`/migrations/(\d{4,})_[^/]*\.sql(\.tmpl)?$`)

// resourceMigrationBase is the number after which resources' migrations are numbered: the
// components' own migrations (items, idempotency keys, the outbox, ...) keep 1 to 100, so a
// component added later, or a later svcgen's next migration, never takes a resource's number.
const resourceMigrationBase = 100

// nextMigration is the number after every migration any component's templates have (rendered
// for this stack or not: a component added later brings its migrations with their numbers),
// every recorded one and resourceMigrationBase.
func nextMigration(c *Catalog, s Spec) (int, error) {
	high := resourceMigrationBase
	for _, name := range c.Names() {
		comp, _ := c.Component(name)
		paths, _, err := comp.files()
		if err != nil {
			return 0, err
		}
		for _, p := range paths {
			if m := migrationFileRE.FindStringSubmatch("/" + p); m != nil {
				n, _ := strconv.Atoi(m[1])
				high = max(high, n)
			}
		}
	}
	for _, r := range s.Resources {
		for _, m := range r.Migrations {
			high = max(high, m.Version)
		}
	}
	return high + 1, nil
}

// validateResources checks the spec's resources as a whole (answer files, manifests). An answer
// file may leave the migrations out (given): `new` numbers them.
func validateResources(c *Catalog, s Spec, given bool) []error {
	if len(s.Resources) == 0 {
		return nil
	}
	var errs []error
	if len(resourceNames(s)) > 0 && resourceNames(s)[0] != None {
		if err := checkResourceStack(c, s); err != nil {
			errs = append(errs, err)
		}
	}
	versions := map[int]string{}
	for i, r := range s.Resources {
		if r.Removed {
			if err := checkResourceName(r.Name); err != nil {
				errs = append(errs, err)
			}
		} else if err := ValidateResource(r, s.Resources[:i]); err != nil {
			errs = append(errs, err)
		}
		if len(r.Migrations) == 0 && !given {
			errs = append(errs, fmt.Errorf("resource %s: no migrations recorded (svcgen add resource records them)", r.Name))
		}
		for _, m := range r.Migrations {
			if prev, dup := versions[m.Version]; dup {
				errs = append(errs, fmt.Errorf("resource %s: migration %d is resource %s's too", r.Name, m.Version, prev))
			}
			versions[m.Version] = r.Name
		}
	}
	if len(errs) > 0 {
		return []error{errors.Join(errs...)}
	}
	return nil
}

// assignMigrations gives every resource that has no recorded migration (one written by hand in
// an answer file for `new`) its first, numbered after everything the service renders.
func assignMigrations(c *Catalog, s Spec) (Spec, error) {
	for i, r := range s.Resources {
		if len(r.Migrations) > 0 || r.Removed {
			continue
		}
		if err := checkResourceStack(c, s); err != nil {
			return s, err
		}
		if err := ValidateResource(r, s.Resources[:i]); err != nil {
			return s, err
		}
		next, err := nextMigration(c, s)
		if err != nil {
			return s, err
		}
		s.Resources = slices.Clone(s.Resources)
		s.Resources[i].Migrations = []Migration{{Version: next, Fields: slices.Clone(r.Fields)}}
	}
	return s, nil
}
