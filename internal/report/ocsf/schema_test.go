package ocsf_test

// A validator for OCSF events that reads the schema's SOURCE files (as the
// OCSF server does: dictionary, objects, profiles, event classes), resolves
// `extends`, `$include` and profiles, and checks an event: required
// attributes, types per the dictionary (scalars with their base types,
// regexes and ranges, objects recursively, arrays), enum values, sibling
// captions, the class/category/type uids, object constraints, and that no
// attribute appears that the class or object does not define (or that
// belongs to a profile the event does not declare in metadata.profiles).

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type attrSpec map[string]any

type schema struct {
	dir             string
	dict            map[string]attrSpec // dictionary attributes
	types           map[string]attrSpec // dictionary scalar types
	objects         map[string]map[string]any
	resolved        map[string]map[string]attrSpec
	constraint      map[string]map[string][]string
	categories      map[string]int
	categoryCaption map[string]any
	regex           map[string]*regexp.Regexp
}

func readJSON(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func loadSchema(dir string) (*schema, error) {
	s := &schema{dir: dir, dict: map[string]attrSpec{}, types: map[string]attrSpec{}, objects: map[string]map[string]any{},
		resolved: map[string]map[string]attrSpec{}, constraint: map[string]map[string][]string{}, categories: map[string]int{}, categoryCaption: map[string]any{}, regex: map[string]*regexp.Regexp{}}
	d, err := readJSON(filepath.Join(dir, "dictionary.json"))
	if err != nil {
		return nil, err
	}
	for k, v := range d["attributes"].(map[string]any) {
		s.dict[k] = v.(map[string]any)
	}
	for k, v := range d["types"].(map[string]any)["attributes"].(map[string]any) {
		s.types[k] = v.(map[string]any)
	}
	c, err := readJSON(filepath.Join(dir, "categories.json"))
	if err != nil {
		return nil, err
	}
	for k, v := range c["attributes"].(map[string]any) {
		s.categories[k] = int(v.(map[string]any)["uid"].(float64))
		s.categoryCaption[k] = v.(map[string]any)["caption"]
	}
	files, _ := filepath.Glob(filepath.Join(dir, "objects", "*.json"))
	if len(files) == 0 {
		return nil, fmt.Errorf("no objects in %s", dir)
	}
	for _, f := range files {
		o, err := readJSON(f)
		if err != nil {
			return nil, err
		}
		s.objects[o["name"].(string)] = o
	}
	return s, nil
}

// mergeAttr deep-merges an attribute override into a base definition;
// enums are united (a class adds activity ids to the dictionary's 0/99).
func mergeAttr(base, over attrSpec) attrSpec {
	out := attrSpec{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if k == "enum" {
			if be, ok := out["enum"].(map[string]any); ok {
				e := map[string]any{}
				for ek, ev := range be {
					e[ek] = ev
				}
				for ek, ev := range v.(map[string]any) {
					e[ek] = ev
				}
				out["enum"] = e
				continue
			}
		}
		out[k] = v
	}
	return out
}

// ownAttrs resolves one definition's attributes section: its $include
// files first (profile attributes tagged with the profile's name), then its
// own definitions over them.
func (s *schema) ownAttrs(def map[string]any) (map[string]attrSpec, error) {
	out := map[string]attrSpec{}
	attrs, _ := def["attributes"].(map[string]any)
	if inc, ok := attrs["$include"].([]any); ok {
		for _, p := range inc {
			f, err := readJSON(filepath.Join(s.dir, p.(string)))
			if err != nil {
				return nil, fmt.Errorf("$include: %w", err)
			}
			sub, err := s.ownAttrs(f)
			if err != nil {
				return nil, err
			}
			for k, v := range sub {
				if f["meta"] == "profile" {
					if _, set := v["profile"]; !set {
						v = mergeAttr(v, attrSpec{"profile": f["name"]})
					}
				}
				out[k] = mergeAttr(out[k], v)
			}
		}
	}
	for k, v := range attrs {
		if k == "$include" {
			continue
		}
		out[k] = mergeAttr(out[k], v.(map[string]any))
	}
	return out, nil
}

// resolve returns a definition's attributes with its `extends` chain
// applied, each merged over the dictionary's definition.
func (s *schema) resolve(def map[string]any, lookup func(string) (map[string]any, error)) (map[string]attrSpec, error) {
	own, err := s.ownAttrs(def)
	if err != nil {
		return nil, err
	}
	out := map[string]attrSpec{}
	if ext, ok := def["extends"].(string); ok && ext != "" && ext != def["name"] {
		parent, err := lookup(ext)
		if err != nil {
			return nil, err
		}
		pa, err := s.resolve(parent, lookup)
		if err != nil {
			return nil, err
		}
		for k, v := range pa {
			out[k] = v
		}
	}
	for k, v := range own {
		if base, ok := out[k]; ok {
			out[k] = mergeAttr(base, v)
			continue
		}
		dict, ok := s.dict[k]
		if !ok {
			return nil, fmt.Errorf("%v: attribute %q is not in the dictionary", def["name"], k)
		}
		out[k] = mergeAttr(dict, v)
	}
	return out, nil
}

func (s *schema) object(name string) (map[string]attrSpec, error) {
	if r, ok := s.resolved[name]; ok {
		return r, nil
	}
	def, ok := s.objects[name]
	if !ok {
		return nil, fmt.Errorf("unknown object %q", name)
	}
	r, err := s.resolve(def, func(n string) (map[string]any, error) {
		if o, ok := s.objects[n]; ok {
			return o, nil
		}
		return nil, fmt.Errorf("object %s extends unknown %q", name, n)
	})
	if err != nil {
		return nil, err
	}
	if name == "observable" {
		// As the server does: the observable type ids are those the
		// dictionary's types, attributes and objects declare.
		enum := map[string]any{}
		add := func(spec map[string]any) {
			if o, ok := spec["observable"].(float64); ok {
				enum[strconv.Itoa(int(o))] = map[string]any{"caption": spec["caption"]}
			}
		}
		for _, t := range s.types {
			add(t)
		}
		for _, a := range s.dict {
			add(a)
		}
		for _, o := range s.objects {
			add(o)
		}
		r["type_id"] = mergeAttr(r["type_id"], attrSpec{"enum": enum})
	}
	s.resolved[name] = r
	cs := map[string][]string{}
	if c, ok := def["constraints"].(map[string]any); ok {
		for k, v := range c {
			for _, a := range v.([]any) {
				cs[k] = append(cs[k], a.(string))
			}
		}
	}
	s.constraint[name] = cs
	return r, nil
}

// class is a resolved event class.
type class struct {
	attrs            map[string]attrSpec
	uid, categoryUID int
}

// class resolves events/<category>/<file>.json (e.g. "findings/detection_finding").
func (s *schema) class(rel string) (*class, error) {
	byName := map[string]string{}
	filepath.Walk(filepath.Join(s.dir, "events"), func(p string, info os.FileInfo, err error) error { //nolint:errcheck
		if err == nil && strings.HasSuffix(p, ".json") {
			byName[strings.TrimSuffix(filepath.Base(p), ".json")] = p
		}
		return nil
	})
	def, err := readJSON(filepath.Join(s.dir, "events", rel+".json"))
	if err != nil {
		return nil, err
	}
	attrs, err := s.resolve(def, func(n string) (map[string]any, error) {
		p, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("class extends unknown %q", n)
		}
		return readJSON(p)
	})
	if err != nil {
		return nil, err
	}
	// The category comes from the nearest definition that names one.
	cat := ""
	for d := def; d != nil; {
		if c, ok := d["category"].(string); ok {
			cat = c
			break
		}
		ext, _ := d["extends"].(string)
		p, ok := byName[ext]
		if !ok {
			break
		}
		d, _ = readJSON(p)
	}
	catUID, ok := s.categories[cat]
	if !ok {
		return nil, fmt.Errorf("class %s: unknown category %q", rel, cat)
	}
	uid := catUID*1000 + int(def["uid"].(float64))
	// The server generates these enums from the class and its category.
	caption := def["caption"]
	attrs["class_uid"] = mergeAttr(attrs["class_uid"], attrSpec{"enum": map[string]any{strconv.Itoa(uid): map[string]any{"caption": caption}}})
	attrs["category_uid"] = mergeAttr(attrs["category_uid"], attrSpec{"enum": map[string]any{strconv.Itoa(catUID): map[string]any{"caption": s.categoryCaption[cat]}}})
	typeEnum := map[string]any{}
	if acts, ok := attrs["activity_id"]["enum"].(map[string]any); ok {
		for id, a := range acts {
			n, _ := strconv.Atoi(id)
			typeEnum[strconv.Itoa(uid*100+n)] = map[string]any{"caption": fmt.Sprintf("%v: %v", caption, a.(map[string]any)["caption"])}
		}
	}
	attrs["type_uid"] = mergeAttr(attrs["type_uid"], attrSpec{"enum": typeEnum})
	return &class{attrs: attrs, uid: uid, categoryUID: catUID}, nil
}

// validator collects every problem of one event.
type validator struct {
	s        *schema
	profiles map[string]bool
	errs     []string
}

func (v *validator) errf(path, format string, args ...any) {
	v.errs = append(v.errs, path+": "+fmt.Sprintf(format, args...))
}

// validateEvent checks an event against a class.
func (s *schema) validateEvent(c *class, ev map[string]any) []string {
	v := &validator{s: s, profiles: map[string]bool{}}
	if md, ok := ev["metadata"].(map[string]any); ok {
		if ps, ok := md["profiles"].([]any); ok {
			for _, p := range ps {
				if n, ok := p.(string); ok {
					v.profiles[n] = true
				}
			}
		}
	}
	v.attrs("", c.attrs, nil, ev)
	num := func(k string) (int, bool) {
		f, ok := ev[k].(float64)
		return int(f), ok
	}
	if u, ok := num("class_uid"); !ok || u != c.uid {
		v.errf("class_uid", "is %v, want %d", ev["class_uid"], c.uid)
	}
	if u, ok := num("category_uid"); !ok || u != c.categoryUID {
		v.errf("category_uid", "is %v, want %d", ev["category_uid"], c.categoryUID)
	}
	a, _ := num("activity_id")
	if u, ok := num("type_uid"); !ok || u != c.uid*100+a {
		v.errf("type_uid", "is %v, want class_uid*100+activity_id = %d", ev["type_uid"], c.uid*100+a)
	}
	sort.Strings(v.errs)
	return v.errs
}

// attrs checks an object's attributes against their definitions.
func (v *validator) attrs(path string, defs map[string]attrSpec, constraints map[string][]string, obj map[string]any) {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	for k, d := range defs {
		if d["requirement"] != "required" {
			continue
		}
		if p, ok := d["profile"].(string); ok && !v.profiles[p] {
			continue
		}
		if _, ok := obj[k]; !ok {
			v.errf(join(k), "required attribute missing")
		}
	}
	for k, val := range obj {
		d, ok := defs[k]
		if !ok {
			v.errf(join(k), "attribute not defined by this class/object")
			continue
		}
		if p, ok := d["profile"].(string); ok && !v.profiles[p] {
			v.errf(join(k), "belongs to profile %q, which metadata.profiles does not declare", p)
		}
		v.value(join(k), d, val)
		if sib, ok := d["sibling"].(string); ok {
			if enum, ok := d["enum"].(map[string]any); ok {
				if id, ok := val.(float64); ok && id != 99 {
					if e, ok := enum[strconv.Itoa(int(id))].(map[string]any); ok {
						if got, ok := obj[sib]; ok && got != e["caption"] {
							v.errf(join(sib), "is %q, want enum caption %q of %s=%v", got, e["caption"], k, id)
						}
					}
				}
			}
		}
	}
	for kind, names := range constraints {
		n := 0
		for _, name := range names {
			if _, ok := obj[name]; ok {
				n++
			}
		}
		switch {
		case kind == "at_least_one" && n == 0:
			v.errf(path, "needs at least one of %v", names)
		case kind == "just_one" && n != 1:
			v.errf(path, "needs exactly one of %v (has %d)", names, n)
		}
	}
}

// value checks one attribute's value (array or single).
func (v *validator) value(path string, d attrSpec, val any) {
	if d["is_array"] == true {
		arr, ok := val.([]any)
		if !ok {
			v.errf(path, "must be an array, is %T", val)
			return
		}
		for i, e := range arr {
			v.single(fmt.Sprintf("%s[%d]", path, i), d, e)
		}
		return
	}
	v.single(path, d, val)
}

func (v *validator) single(path string, d attrSpec, val any) {
	typ, _ := d["type"].(string)
	if enum, ok := d["enum"].(map[string]any); ok {
		key := fmt.Sprint(val)
		if f, ok := val.(float64); ok {
			key = strconv.FormatFloat(f, 'f', -1, 64)
		}
		if _, ok := enum[key]; !ok {
			v.errf(path, "value %v is not in the enum", val)
		}
	}
	if !strings.HasSuffix(typ, "_t") {
		o, ok := val.(map[string]any)
		if !ok {
			v.errf(path, "must be a %s object, is %T", typ, val)
			return
		}
		defs, err := v.s.object(typ)
		if err != nil {
			v.errf(path, "%v", err)
			return
		}
		v.attrs(path, defs, v.s.constraint[typ], o)
		return
	}
	v.scalar(path, typ, val)
}

// scalar checks a value against a dictionary type and its base types.
func (v *validator) scalar(path, typ string, val any) {
	t, ok := v.s.types[typ]
	if !ok {
		v.errf(path, "unknown type %q", typ)
		return
	}
	switch typ {
	case "string_t":
		if _, ok := val.(string); !ok {
			v.errf(path, "must be a string (%s), is %T", typ, val)
		}
	case "integer_t", "long_t":
		f, ok := val.(float64)
		if !ok || f != math.Trunc(f) {
			v.errf(path, "must be an integer (%s), is %v", typ, val)
		} else if typ == "integer_t" && (f > math.MaxInt32 || f < math.MinInt32) {
			v.errf(path, "%v overflows integer_t", f)
		}
	case "float_t":
		if _, ok := val.(float64); !ok {
			v.errf(path, "must be a number, is %T", val)
		}
	case "boolean_t":
		if _, ok := val.(bool); !ok {
			v.errf(path, "must be a boolean, is %T", val)
		}
	case "json_t":
	default:
		base, _ := t["type"].(string)
		if base == "" {
			v.errf(path, "type %s has no base type", typ)
			return
		}
		v.scalar(path, base, val)
	}
	if re, ok := t["regex"].(string); ok {
		if s, ok := val.(string); ok {
			rx, ok := v.s.regex[typ]
			if !ok {
				rx = regexp.MustCompile(re)
				v.s.regex[typ] = rx
			}
			if !rx.MatchString(s) {
				v.errf(path, "%q does not match the %s pattern", s, typ)
			}
		}
	}
	if r, ok := t["range"].([]any); ok && len(r) == 2 {
		if f, ok := val.(float64); ok && (f < r[0].(float64) || f > r[1].(float64)) {
			v.errf(path, "%v outside %s range %v", f, typ, r)
		}
	}
	if ml, ok := t["max_len"].(float64); ok {
		if s, ok := val.(string); ok && float64(len(s)) > ml {
			v.errf(path, "longer than %s max_len %v", typ, ml)
		}
	}
}
