package generator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseFieldReadsEveryTypeAndConstraint(t *testing.T) {
	for in, want := range map[string]string{
		"customer:string:required":               "customer:string:required",
		"total:int64:min=0":                      "total:int64:min=0",
		"status:enum(new|paid|shipped)":          "status:enum(new|paid|shipped)",
		"status:enum(new|paid):required,unique":  "status:enum(new|paid):required:unique",
		"price:decimal:min=0:max=100000":         "price:decimal:min=0:max=100000",
		"note:text:maxlen=500":                   "note:text:maxlen=500",
		"active:bool:default=true":               "active:bool:default=true",
		"account_id:uuid:unique":                 "account_id:uuid:unique",
		"born_at:time":                           "born_at:time",
		"visits:int:max=10:default=3":            "visits:int:max=10:default=3",
		" tier:enum(free|pro):default=pro":       "tier:enum(free|pro):default=pro",
		"display_name:string:default=anonymous ": "display_name:string:default=anonymous",
	} {
		f, err := ParseField(strings.TrimSpace(in))
		if err != nil {
			t.Errorf("ParseField(%q): %v", in, err)
			continue
		}
		if got := f.String(); got != want {
			t.Errorf("ParseField(%q).String() = %q, want %q", in, got, want)
		}
	}
}

// Bad input names the field and what is allowed.
func TestParseFieldErrorsNameTheFieldAndTheAllowedValues(t *testing.T) {
	for in, want := range map[string][]string{
		"total:money":                 {"field total", `unknown type "money"`, "string, text, int, int64, bool, decimal, time, uuid, enum(a|b|...)"},
		"total":                       {`field "total"`, "name:type"},
		"total:int64:positive":        {"field total", `"positive"`, "required, unique, min=N, max=N, maxlen=N, default=V"},
		"total:int64:min=x":           {"field total", "needs an integer"},
		"name:string:min=1":           {"field name", "applies to int, int64 and decimal"},
		"total:int64:maxlen=3":        {"field total", "applies to string and text"},
		"total:int64:min=5:max=1":     {"field total", "min=5 is greater than max=1"},
		"status:enum(a|b:required":    {"field status", "enum(a|b|c)"},
		"status:enum(a|a)":            {"field status", `"a" is given twice`},
		"status:enum(a|b):default=c":  {"field status", "one of a, b"},
		"Total:int64":                 {`field "Total"`, "lowercase"},
		"select:string":               {"field select", "reserved word"},
		"id:string":                   {"field id", "every resource has id"},
		"flag:bool:unique":            {"field flag", "does not apply to a bool"},
		"at:time:default=now":         {"field at", "takes no default"},
		"n:int:max=99999999999":       {"field n", "out of range of an int field"},
		"s:string:default=it's":       {"field s", "free of quotes"},
		"u:uuid:default=not-a-uuid":   {"field u", "a lowercase UUID"},
		"b:bool:default=yes":          {"field b", "true or false"},
		"n:int64:required=yes":        {"field n", "takes no value"},
		"s:string:maxlen=0":           {"field s", "positive integer"},
		"s:string:default":            {"field s", "needs a value"},
		"status:enum(A|b)":            {"field status", `enum value "A"`},
		"total:int64:min=1:default=0": {"field total", "between min and max"},
	} {
		_, err := ParseField(in)
		if err == nil {
			t.Errorf("ParseField(%q) = nil error, want one", in)
			continue
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("ParseField(%q) = %q, want it to say %q", in, err, w)
			}
		}
	}
}

func TestValidateResourceRefusesCollidingNamesAndDuplicateFields(t *testing.T) {
	fields := []Field{{Name: "total", Type: "int64"}}
	order := Resource{Name: "order", Fields: fields}
	for _, tc := range []struct {
		r      Resource
		others []Resource
		want   string
	}{
		{Resource{Name: "value", Fields: fields}, nil, "its table values is an SQL reserved word"},
		{Resource{Name: "select", Fields: fields}, nil, "Go keyword"},
		{Resource{Name: "user", Fields: fields}, nil, ""},                           // users is not reserved
		{Resource{Name: "func", Fields: fields}, nil, "Go keyword"},                 // a package named func
		{Resource{Name: "type", Fields: fields}, nil, "Go keyword"},                 // a variable named type
		{Resource{Name: "item", Fields: fields}, nil, "the service uses that name"}, // the example
		{Resource{Name: "Order", Fields: fields}, nil, "one lowercase word"},
		{Resource{Name: "line_item", Fields: fields}, nil, "one lowercase word"},
		{order, []Resource{order}, "has a resource order already"},
		{Resource{Name: "order", Fields: nil}, nil, "at least one field"},
		{Resource{Name: "order", Fields: []Field{{Name: "total", Type: "int64"}, {Name: "total", Type: "string"}}}, nil, "field total is given twice"},
	} {
		err := ValidateResource(tc.r, tc.others)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("ValidateResource(%s): %v", tc.r.Name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ValidateResource(%s) = %v, want an error saying %q", tc.r.Name, err, tc.want)
		}
	}
	// The table is the plural: order is an SQL reserved word, orders is not.
	if err := ValidateResource(Resource{Name: "order", Fields: fields}, nil); err != nil {
		t.Errorf("order (table orders) must be allowed: %v", err)
	}
}

func TestPlural(t *testing.T) {
	for in, want := range map[string]string{"order": "orders", "customer": "customers", "category": "categories",
		"box": "boxes", "address": "addresses", "batch": "batches", "day": "days", "wish": "wishes"} {
		if got := Plural(in); got != want {
			t.Errorf("Plural(%q) = %q, want %q", in, got, want)
		}
	}
}

func fullSpec(t *testing.T, c *Catalog) Spec {
	t.Helper()
	s := NewSpec("shop", "example.com/shop", map[string]string{"framework": "gin", "database": "postgres", "cache": "redis",
		"broker": "kafka", "metrics": "prometheus", "tracing": None, "ci": None, "deploy": None})
	if err := s.Validate(c); err != nil {
		t.Fatal(err)
	}
	return s
}

func mustFields(t *testing.T, fs ...string) []Field {
	t.Helper()
	out, err := ParseFields(fs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Adding, changing and removing a resource: each migration keeps its number and its bytes, a
// change adds the next one, and a removed resource's migrations stay.
func TestResourceMigrationsAreNeverRewritten(t *testing.T) {
	c, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	s := fullSpec(t, c)
	s, err = AddResource(c, s, Resource{Name: "order", Fields: mustFields(t, "customer:string:required", "total:int64:min=0", "status:enum(new|paid|shipped)")})
	if err != nil {
		t.Fatal(err)
	}
	first := renderMap(t, c, s)
	up := "internal/postgres/migrations/0101_create_orders.up.sql"
	if !strings.Contains(first[up], "CREATE TABLE orders") || !strings.Contains(first[up], "CHECK (status IN ('new', 'paid', 'shipped'))") {
		t.Fatalf("%s =\n%s", up, first[up])
	}
	for _, p := range []string{"internal/orders/orders.go", "internal/server/orders.go", "internal/postgres/orders.go", "internal/postgres/orders_test.go", "internal/postgres/migrations/0101_create_orders.down.sql"} {
		if first[p] == "" {
			t.Errorf("no %s", p)
		}
	}
	if !strings.Contains(first["api/openapi.yaml"], "/v1/orders/{id}:") || !strings.Contains(first["api/openapi.yaml"], "OrderInput:") {
		t.Error("api/openapi.yaml does not describe /v1/orders")
	}

	s, notes, err := SetResource(c, s, "order", mustFields(t, "customer:string:required", "total:int64:min=0", "status:enum(new|paid|shipped)", "note:text"))
	if err != nil || len(notes) != 0 {
		t.Fatal(err, notes)
	}
	second := renderMap(t, c, s)
	if second[up] != first[up] {
		t.Errorf("set resource rewrote %s", up)
	}
	alter := "internal/postgres/migrations/0102_alter_orders.up.sql"
	if !strings.Contains(second[alter], "ALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT ''") {
		t.Errorf("%s =\n%s", alter, second[alter])
	}
	if !strings.Contains(second["internal/postgres/migrations/0102_alter_orders.down.sql"], "ALTER TABLE orders DROP COLUMN note") {
		t.Error("the down migration does not drop the added column")
	}
	if _, notes, _ := SetResource(c, s, "order", mustFields(t, "customer:string:required", "total:int64:min=0", "status:enum(new|paid|shipped)", "note:text")); len(notes) != 1 {
		t.Errorf("setting the same fields again: notes %v, want one saying nothing changes", notes)
	}

	s, _, err = RemoveResource(s, "order")
	if err != nil {
		t.Fatal(err)
	}
	third := renderMap(t, c, s)
	if third[up] != first[up] || third[alter] != second[alter] {
		t.Error("remove resource dropped or changed a migration a database may have applied")
	}
	if _, ok := third["internal/orders/orders.go"]; ok || strings.Contains(third["api/openapi.yaml"], "/v1/orders") {
		t.Error("remove resource left the resource's files")
	}
	// The next migration never reuses a removed resource's number.
	s, err = AddResource(c, s, Resource{Name: "customer", Fields: mustFields(t, "email:string:unique")})
	if err != nil {
		t.Fatal(err)
	}
	if got := renderMap(t, c, s)["internal/postgres/migrations/0103_create_customers.up.sql"]; !strings.Contains(got, "CREATE UNIQUE INDEX customers_email_key ON customers (email)") {
		t.Errorf("0103_create_customers.up.sql =\n%s", got)
	}

	// The spec round-trips through the manifest's YAML.
	raw, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Spec
	if err := yaml.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(s) {
		t.Errorf("YAML round trip changed the spec:\n%s", raw)
	}
}

func TestAddResourceRefusesOtherDatabases(t *testing.T) {
	c, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	s := fullSpec(t, c).With("database", None)
	_, err = AddResource(c, s, Resource{Name: "order", Fields: mustFields(t, "total:int64")})
	if err == nil || !strings.Contains(err.Error(), "supported databases are postgres") {
		t.Errorf("AddResource without a database = %v, want an error naming the supported databases", err)
	}
}

func TestReadResourceFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "customer.yaml")
	if err := os.WriteFile(path, []byte(`name: customer
fields:
  - email:string:required:unique
  - name: tier
    type: enum
    values: [free, pro]
    default: free
  - {name: credit, type: decimal, min: 0}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := ReadResourceFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range r.Fields {
		got = append(got, f.String())
	}
	if r.Name != "customer" || strings.Join(got, " ") != "email:string:required:unique tier:enum(free|pro):default=free credit:decimal:min=0" {
		t.Errorf("ReadResourceFile = %s %v", r.Name, got)
	}
	if err := os.WriteFile(path, []byte("name: customer\nfields:\n  - {name: credit, type: money}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadResourceFile(path); err == nil || !strings.Contains(err.Error(), "field credit") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("a bad type in the file = %v, want an error naming the line and the field", err)
	}
}

func renderMap(t *testing.T, c *Catalog, s Spec) map[string]string {
	t.Helper()
	files, err := Render(s, c)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		out[f.Path] = string(f.Data)
	}
	return out
}
