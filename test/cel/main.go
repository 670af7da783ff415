// Evaluates CEL expressions the way a ValidatingAdmissionPolicy does (the `object` and
// `request` variables, and `params` when a case has one, as dynamic values), for test/admission.test.ts. Input on stdin:
// {"variables": [{"name", "expression"}], "expressions": [...], "cases": [{"object": {...},
// "request": {...}}]}; the policy's variables are evaluated in order and given to the
// expressions as `variables.<name>`, as the API server does. Output: for each case, each
// expression's boolean result or its compile/eval error.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/google/cel-go/cel"
)

type variable struct {
	Name       string `json:"name"`
	Expression string `json:"expression"`
}

type input struct {
	Variables   []variable       `json:"variables"`
	Expressions []string         `json:"expressions"`
	Cases       []map[string]any `json:"cases"`
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	env, err := cel.NewEnv(cel.Variable("object", cel.DynType), cel.Variable("request", cel.DynType), cel.Variable("oldObject", cel.DynType), cel.Variable("params", cel.DynType), cel.Variable("variables", cel.DynType))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	compile := func(e string) cel.Program {
		ast, iss := env.Compile(e)
		if iss.Err() != nil {
			fmt.Fprintf(os.Stderr, "compile %q: %v\n", e, iss.Err())
			os.Exit(1)
		}
		p, err := env.Program(ast)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return p
	}
	varPrograms := make([]cel.Program, len(in.Variables))
	for i, v := range in.Variables {
		varPrograms[i] = compile(v.Expression)
	}
	programs := make([]cel.Program, len(in.Expressions))
	for i, e := range in.Expressions {
		ast, iss := env.Compile(e)
		if iss.Err() != nil {
			fmt.Fprintf(os.Stderr, "compile %q: %v\n", e, iss.Err())
			os.Exit(1)
		}
		if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
			fmt.Fprintf(os.Stderr, "expression %q returns %v, not bool\n", e, ast.OutputType())
			os.Exit(1)
		}
		p, err := env.Program(ast)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		programs[i] = p
	}
	out := make([][]any, len(in.Cases))
	for c, vars := range in.Cases {
		out[c] = make([]any, len(programs))
		values := map[string]any{}
		vars["variables"] = values
		for i, p := range varPrograms {
			v, _, err := p.Eval(vars)
			if err != nil {
				fmt.Fprintf(os.Stderr, "variable %s: %v\n", in.Variables[i].Name, err)
				os.Exit(1)
			}
			values[in.Variables[i].Name] = v
		}
		for i, p := range programs {
			v, _, err := p.Eval(vars)
			if err != nil {
				out[c][i] = "error: " + err.Error()
				continue
			}
			out[c][i] = v.Value()
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
