{{- define "functions.shared" -}}from-sub{{- end -}}
