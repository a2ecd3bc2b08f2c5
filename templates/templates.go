// Package templates embeds the component templates that svcgen renders.
//
// Each top-level folder is one component: a component.yaml describing it and the files it owns,
// at the paths they take in the generated service. Files ending in .tmpl are rendered with
// text/template; all others are copied as they are. Go sources are always .go.tmpl so that they
// are never compiled into svcgen itself.
package templates

import "embed"

// FS holds every component folder. The all: prefix keeps dotfiles such as .gitignore.tmpl.
//
//go:embed all:*
var FS embed.FS
