{{- define "functions.shared" -}}from-parent {{ .Chart.Name }}{{- end -}}
{{- define "functions.labels" -}}
app: {{ .Chart.Name }}
release: {{ .Release.Name }}
{{- end -}}
{{- define "functions.empty" }}{{ end -}}
