package server

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"gitlab.com/acme/billing/internal/items"
)

// itemsPath is the collection resource of the example API.
const itemsPath = "/v1/items"

// itemPath is the URL of one item, for the Location header of a created item.
func itemPath(id string) string {
	return itemsPath + "/" + url.PathEscape(id)
}

// itemRequest is the body of POST and PUT. Pointers tell a missing field from a
// zero value, so that a forgotten price is an error rather than a free item.
type itemRequest struct {
	Name  *string `json:"name"`
	Price *int64  `json:"price"`
}

// listResponse is one page of GET /v1/items. Next is the cursor to pass as ?after=
// for the following page and is absent on the last page.
type listResponse struct {
	Items []items.Item `json:"items"`
	Next  string       `json:"next,omitempty"`
}

func newListResponse(page items.Page) listResponse {
	resp := listResponse{Items: page.Items, Next: page.Next}
	if resp.Items == nil {
		resp.Items = []items.Item{} // an empty page is [], never null
	}
	return resp
}

// decodeItemInput reads and checks the body of POST/PUT /v1/items. Every field
// problem is reported at once as an *items.ValidationError.
func decodeItemInput(r *http.Request) (items.Input, error) {
	var req itemRequest
	if err := decodeJSON(r, &req); err != nil {
		return items.Input{}, err
	}
	var fields []items.FieldError
	missing := map[string]bool{}
	if req.Name == nil {
		missing["name"] = true
		fields = append(fields, items.FieldError{Field: "name", Detail: "is required"})
	}
	if req.Price == nil {
		missing["price"] = true
		fields = append(fields, items.FieldError{Field: "price", Detail: "is required"})
	}
	in := items.Input{}
	if req.Name != nil {
		in.Name = *req.Name
	}
	if req.Price != nil {
		in.Price = *req.Price
	}
	in = in.Normalize()
	var verr *items.ValidationError
	if errors.As(in.Validate(), &verr) {
		for _, f := range verr.Fields {
			if !missing[f.Field] {
				fields = append(fields, f)
			}
		}
	}
	if len(fields) > 0 {
		return items.Input{}, items.NewValidationError(fields...)
	}
	return in, nil
}

// decodeJSON decodes a single JSON object from the request body into dst, strictly:
// the body must be JSON, contain no unknown fields and nothing after the object.
// Errors say what is wrong without echoing the body back.
func decodeJSON(r *http.Request, dst any) error {
	if !isJSON(r.Header["Content-Type"]) {
		return &requestError{status: http.StatusUnsupportedMediaType, detail: "Content-Type must be application/json"}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return err
		}
		return badRequest("the request body must contain a single JSON object")
	}
	return nil
}

// isJSON reports whether a request's Content-Type values say JSON. The exact value
// clients send almost always is checked without parsing (mime.ParseMediaType
// allocates its parameter map on every write).
func isJSON(contentType []string) bool {
	if len(contentType) == 0 {
		return false
	}
	if contentType[0] == "application/json" {
		return true
	}
	mediaType, _, err := mime.ParseMediaType(contentType[0])
	return err == nil && mediaType == "application/json"
}

// jsonError turns a decoding error into a client-facing one.
func jsonError(err error) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxErr):
		return err
	case errors.Is(err, io.EOF):
		return badRequest("the request body must not be empty")
	case errors.As(err, &syntaxErr):
		return badRequest("the request body is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the request body is not valid JSON (it ends too early)")
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return badRequest("the request body must be a JSON object")
		}
		return items.NewValidationError(items.FieldError{Field: typeErr.Field, Detail: "must be " + jsonKind(typeErr.Type)})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("the request body has an unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		return badRequest("the request body is not valid JSON")
	}
}

func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	default:
		return "a " + t.Kind().String()
	}
}

// parseListParams reads ?limit= (1..MaxPageSize, default DefaultPageSize) and ?after=.
func parseListParams(q url.Values) (after string, limit int, err error) {
	limit = items.DefaultPageSize
	if raw := q.Get("limit"); raw != "" {
		n, convErr := strconv.Atoi(raw)
		if convErr != nil || n < 1 || n > items.MaxPageSize {
			return "", 0, items.NewValidationError(items.FieldError{
				Field:  "limit",
				Detail: "must be an integer between 1 and " + strconv.Itoa(items.MaxPageSize),
			})
		}
		limit = n
	}
	return q.Get("after"), limit, nil
}
