package config

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"
)

// maskedValue replaces every password in printed configuration.
const maskedValue = "******"

// YAML renders the configuration with its kebab-case keys in declaration
// order, sizes and durations in the form the loader reads ("1 GB", "10m").
// With mask, registry passwords print as "******". Unset optional values
// print as null. The loaded manifest is not printed, only where it comes from.
func (c *Config) YAML(mask bool) ([]byte, error) {
	n, err := toNode(reflect.ValueOf(*c), "", mask)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// toMap is the configuration as the nested map koanf merges; nil optional
// values are left out so they stay unset.
func (c *Config) toMap() (map[string]any, error) {
	n, err := toNode(reflect.ValueOf(*c), "", false)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		return nil, err
	}
	dropNils(m)
	return m, nil
}

func dropNils(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropNils(x)
		}
	}
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

func toNode(v reflect.Value, field string, mask bool) (*yaml.Node, error) {
	switch v.Type() {
	case byteSizeType:
		return scalar("!!str", ByteSize(v.Int()).String()), nil
	case durationType:
		return scalar("!!str", FormatDuration(time.Duration(v.Int()))), nil
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return scalar("!!null", "null"), nil
		}
		return toNode(v.Elem(), field, mask)
	case reflect.Struct:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for i := range v.NumField() {
			tag := v.Type().Field(i).Tag.Get("koanf")
			if tag == "" || tag == "-" {
				continue
			}
			child, err := toNode(v.Field(i), tag, mask)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, scalar("!!str", tag), child)
		}
		return n, nil
	case reflect.Slice:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		if v.Len() == 0 {
			n.Style = yaml.FlowStyle
		}
		for i := range v.Len() {
			child, err := toNode(v.Index(i), field, mask)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, child)
		}
		return n, nil
	case reflect.Map:
		n := &yaml.Node{Kind: yaml.MappingNode}
		if v.Len() == 0 {
			n.Style = yaml.FlowStyle
		}
		keys := make([]string, 0, v.Len())
		for _, k := range v.MapKeys() {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		for _, k := range keys {
			child, err := toNode(v.MapIndex(reflect.ValueOf(k)), field, mask)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, scalar("!!str", k), child)
		}
		return n, nil
	case reflect.String:
		s := v.String()
		if mask && field == "password" && s != "" {
			s = maskedValue
		}
		return scalar("!!str", s), nil
	case reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
		n := &yaml.Node{}
		if err := n.Encode(v.Interface()); err != nil {
			return nil, err
		}
		return n, nil
	}
	return nil, fmt.Errorf("config: no YAML form for field %q of type %s", field, v.Type())
}
